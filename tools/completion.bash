# bash completion for mapreduce; installed as
# share/bash-completion/completions/mapreduce (or: source tools/completion.bash).
# The options come from the program's own --help and the job names from its
# --list-jobs, so a new option or job needs no edit here; only an option
# whose value is a fixed list or not a file is named below.

# _mapreduce_help_opts BIN: one line per option of BIN --help, "NAME ARG"
# (ARG empty for a flag), e.g. "--job NAME|PLUGIN.so", "-u", "--stats"
_mapreduce_help_opts() {
  "$1" --help 2> /dev/null | sed -n 's/^ \{1,8\}\(-.*\)$/\1/p' | while IFS= read -r line; do
    line=${line%%  *} # the description starts after two spaces
    local arg=""
    case $line in *" "[!-]*) arg=${line##* } ;; esac
    local o
    for o in ${line//,/ }; do
      o=${o%%\[*} # --progress[=SECS]: --progress
      case $o in -*) printf '%s %s\n' "${o%%=*}" "$arg" ;; esac
    done
  done
}

_mapreduce() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  # --opt=value: bash splits it at '=' (COMP_WORDBREAKS)
  if [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi
  local bin=${COMP_WORDS[0]}
  bin=${bin/#\~/$HOME}
  [[ $bin == */* && -x $bin ]] || bin=mapreduce
  COMPREPLY=()

  local opts
  opts=$(_mapreduce_help_opts "$bin")
  if [[ $prev == -* ]]; then
    local arg
    arg=$(printf '%s\n' "$opts" | sed -n "s/^$prev \(..*\)$/\1/p")
    if [[ -n $arg ]]; then
      case $prev in
      -j | --job)
        local jobs
        jobs=$("$bin" --list-jobs 2> /dev/null | cut -d' ' -f1)
        COMPREPLY=($(compgen -W "$jobs" -- "$cur"))
        # a plugin: a path to a .so file
        [[ $cur == */* || $cur == .* || ${#COMPREPLY[@]} -eq 0 ]] &&
          COMPREPLY+=($(compgen -f -X '!*.so' -- "$cur") $(compgen -d -S / -- "$cur"))
        compopt -o filenames -o nospace 2> /dev/null
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != */ ]] && compopt +o nospace 2> /dev/null
        ;;
      -e | --exec | -R | --reducer) COMPREPLY=($(compgen -c -- "$cur")) ;;
      --halt) COMPREPLY=($(compgen -W "never soon,fail= now,fail=" -- "$cur")) &&
        [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2> /dev/null ;;
      --master-compute) COMPREPLY=($(compgen -W "yes no auto" -- "$cur")) ;;
      -r | --reduce) COMPREPLY=($(compgen -W "sum count min max mean first concat" -- "$cur")) ;;
      --tmpdir) COMPREPLY=($(compgen -d -- "$cur")) && compopt -o filenames 2> /dev/null ;;
      # numbers and free text: nothing to offer
      -a | --arg | -c | --chunksize | -t | --threads | --timeout | --retries | --max-line | \
        --colsep | --memory) ;;
      *) # a file, by default (-o, --joblog and options yet to come)
        COMPREPLY=($(compgen -f -- "$cur"))
        compopt -o filenames 2> /dev/null
        ;;
      esac
      return 0
    fi
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(printf '%s\n' "$opts" | cut -d' ' -f1 | sort -u)" -- "$cur"))
    return 0
  fi
  # INPUT: a file
  COMPREPLY=($(compgen -f -- "$cur"))
  compopt -o filenames 2> /dev/null
  return 0
}
complete -F _mapreduce mapreduce
