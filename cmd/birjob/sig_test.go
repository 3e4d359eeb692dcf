package main

import "syscall"

var sigZero = syscall.Signal(0)
