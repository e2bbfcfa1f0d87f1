// Command tact is a self-hosted, privacy-first customer data platform for
// online shops. Run `tact serve` to start it on an embedded SQLite store in
// ./tact-data; `tact help` lists the other commands.
package main

import (
	"context"
	"os"

	"github.com/tact-cdp/tact/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], &cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}))
}
