// Command keysweep finds leaked secrets in git repositories.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext is done on Ctrl-C or SIGTERM (a container stopping, a CI
// job cancelled): the command then stops its git processes, leaves the
// terminal clean and exits 2.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
