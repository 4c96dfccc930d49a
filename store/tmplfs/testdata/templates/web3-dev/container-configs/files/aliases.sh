alias ll="ls -la"
alias gs="git status"
