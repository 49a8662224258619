//go:build !unix

package main

import "os"

// terminalWidth is unknown off Unix: the progress line is not cut.
func terminalWidth(*os.File) int { return 0 }
