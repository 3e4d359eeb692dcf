package app

import "syscall"

var sigZero = syscall.Signal(0)
