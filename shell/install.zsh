
# add-zsh-hook adds a function only once, so sourcing this twice is harmless. It
# appends, and direnv puts its hook first, so direnv's runs before ours either way.
\builtin autoload -Uz add-zsh-hook
add-zsh-hook precmd __awsrole_hook
add-zsh-hook chpwd __awsrole_hook
