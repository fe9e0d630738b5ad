# coding=utf-8
# SPDX-License-Identifier: MIT
# The seed article's multiprocessing.Pipe example over ipcd: only the
# imports and the Pipe construction (a name added) differ, plus the role
# switch at the bottom so the two sides can also run as two unrelated
# processes, from two shells, in either order:
#     python3 pipe_demo.py             # as the article runs it
#     python3 pipe_demo.py child       # shell 1: prints what it receives
#     python3 pipe_demo.py parent      # shell 2: sends 0..9, then closes
import os
import sys
from multiprocessing import Process
from ipcd import Pipe

def sub_process(parentid, pipe):
    print('子进程运行 %s   父进程 %s' % (os.getpid(), parentid))
    out_pipe, in_pipe = pipe

    in_pipe.close()
    while True:
        try:
            msg = out_pipe.recv()
            print('out pipe : %s' % msg)
            # out_pipe.send(msg*10)
        except EOFError:
            break



if __name__ == '__main__' and sys.argv[1:] == ['child']:
    # Two unrelated processes: this one is the article's child.
    sub_process(os.getppid(), Pipe('pipe_demo', True))
elif __name__ == '__main__':
    role = sys.argv[1] if len(sys.argv) > 1 else None  # 'parent': no child here
    print('主进程运行 %s' % os.getpid())
    out_pipt, in_pipe = Pipe('pipe_demo', True)
    subprocess = Process(target=sub_process, args=(os.getpid(), (out_pipt, in_pipe)))
    if role is None:
        subprocess.start()

    # 关闭主进程的输出端
    out_pipt.close()
    for i in range(10):
        in_pipe.send(i)
        # print('in  pipe : %s' % in_pipe.recv())
    in_pipe.close()

    if role is None:
        subprocess.join()
    print('主进程结束 %s' % os.getpid())
