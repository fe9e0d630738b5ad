# SPDX-License-Identifier: MIT
# The public API's documentation keeps up with the library: every call the
# library exports is declared in client/ipcclient/ipcclient.h and named in
# libipcclient(3)'s NAME and SYNOPSIS, every IPC_E* code of ipc_defs.h has
# an entry in its ERRORS section, and libipcclient(3) and README.md name
# no ipc_* call the library does not export (a renamed or removed one).
src=${IPCD_SRCDIR:-$(dirname "$0")/..}
hdr=$src/client/ipcclient/ipcclient.h
man=$src/man/libipcclient.3
fail=0

# say MSG: report one mismatch.
say() { echo "api_docs: $*"; fail=1; }

exported=$(sed -n 's/^IPC_EXPORT [^(]*[ *]\(ipc_[a-z_]*\)(.*/\1/p' "$src"/client/*.c | sort -u)
[ -n "$exported" ] || { echo "api_docs: no IPC_EXPORT functions found in $src/client"; exit 1; }
name_sec=$(sed -n '/^\.SH NAME/,/^\.SH /p' "$man")
syn_sec=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$man")
err_sec=$(sed -n '/^\.SH ERRORS/,/^\.SH /p' "$man")
for f in $exported; do
	grep -q "[ *]$f(" "$hdr" || say "$f is exported but not declared in ipcclient.h"
	echo "$name_sec" | grep -qw "$f" || say "$f is missing from NAME in libipcclient.3"
	echo "$syn_sec" | grep -q "[ *]$f(" || say "$f is missing from SYNOPSIS in libipcclient.3"
done
for code in $(sed -n 's/^[[:space:]]*\(IPC_E[A-Z]*\) = .*/\1/p' "$src/proto/ipc_defs.h"); do
	echo "$err_sec" | grep -q "^\.B $code\$" || say "$code has no entry in ERRORS of libipcclient.3"
done
# Identifiers of the API that are not calls: types, struct tags, headers,
# and the prefixes of the naming scheme (ipc_queue_*, ipc_pipe_*).
not_calls="ipc_client ipc_info ipc_msg ipc_queue_opts ipc_pipe_opts ipc_pipe_dir
ipc_kind ipc_result ipc_defs ipc_queue ipc_pipe"
for doc in "$man" "$src/README.md"; do
	for w in $(grep -o 'ipc_[a-z_]*[a-z]' "$doc" | sort -u); do
		case " $(echo $exported $not_calls) " in
		*" $w "*) ;;
		*) say "$(basename "$doc") names $w, which libipcclient does not export" ;;
		esac
	done
done
[ $fail = 0 ] && echo "api_docs: $(echo $exported | wc -w) calls, header, man page and README agree"
exit $fail
