package main

import "syscall"

// ioctlReadTermios reads a terminal's settings (tcgetattr).
const ioctlReadTermios = syscall.TCGETS
