package main

import "github.com/birjob/birjob/demoboard"

// DemoSourceName is the source that demo mode creates for the in-process
// demo board.
const DemoSourceName = "demo-board"

// demoBasePath is where the in-process demo board is mounted.
const demoBasePath = "/demo-board"

func demoBoardMain(args []string) error { return demoboard.Main(args) }
