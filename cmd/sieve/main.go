// Command sieve is an LLM inference server for Llama-family models with a
// sparse, paged KV cache.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// command is one subcommand of the sieve binary, or a group of them.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	subs    []command // the group's subcommands; run is nil when set
}

func commands() []command {
	return []command{
		{name: "run", summary: "generate text from a prompt (-p, or text piped on stdin)", run: runCmd},
		{name: "serve", summary: "serve the OpenAI-compatible HTTP API", run: serveCmd},
		{name: "gen", summary: "write a random-weight llama GGUF of a given shape", run: genCmd},
		{name: "bench", summary: "measure speed: decode, throughput, serve, soak", subs: benchCommands()},
		{name: "analyze", summary: "inspect a model: activations, attention", subs: analyzeCommands()},
		{name: "calibrate", summary: "write a layered KV profile from the model's attention at a uniform budget's total", run: calibrateCmd},
		{name: "eval", summary: "measure quality: ppl, divergence, needle, longbench, ruler", subs: evalCommands()},
		{name: "health", summary: "probe a server's /health; exit 0 only on 200 (for container health checks)", run: healthCmd},
		{name: "pull", summary: "download a model from the Hugging Face hub into the cache", run: pullCmd},
		{name: "models", summary: "list the cached models", run: modelsCmd},
		{name: "rm", summary: "remove a model from the cache", run: rmCmd},
		{name: "version", summary: "print the version and commit of this binary", run: versionCmd},
	}
}

func main() {
	ctx, stop := shutdownContext(context.Background())
	code := mainWithArgs(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// shutdownContext returns a context that ends on SIGINT, SIGTERM or
// SIGHUP. A hang-up (the terminal closing, or a supervisor's reload
// signal, which Sieve has nothing to reload for) drains "sieve serve" like
// SIGTERM instead of killing it mid-request.
func shutdownContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

func mainWithArgs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	err := dispatch(ctx, "sieve", commands(), args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", commandPath(args), err)
	return 1
}

// dispatch runs the command of cmds that args[0] names with the rest of
// args; path is the group's name ("sieve", "sieve bench"). With no
// arguments it prints the group's usage and fails with errUsage; -h,
// --help and help print it and return flag.ErrHelp.
func dispatch(ctx context.Context, path string, cmds []command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		groupUsage(stderr, path, cmds)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		groupUsage(stderr, path, cmds)
		return flag.ErrHelp
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if c.subs != nil {
			return dispatch(ctx, path+" "+c.name, c.subs, args[1:], stdout, stderr)
		}
		return c.run(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", path, args[0])
	groupUsage(stderr, path, cmds)
	return errUsage
}

// commandPath is the name of the command args run, for error messages:
// "sieve", then the command and subcommand names that args start with.
func commandPath(args []string) string {
	path, cmds := "sieve", commands()
	for _, a := range args {
		i := slices.IndexFunc(cmds, func(c command) bool { return c.name == a })
		if i < 0 {
			break
		}
		path += " " + a
		cmds = cmds[i].subs
	}
	return path
}

// errUsage marks an error already reported as a usage message.
var errUsage = errors.New("usage error")

// groupUsage prints the usage of the command group path with its
// commands cmds.
func groupUsage(w io.Writer, path string, cmds []command) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\ncommands:\n", path)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", path)
	if path == "sieve" {
		fmt.Fprintln(w, "'sieve --version' prints the version and commit.")
	}
}

// parseFlags parses args, turning flag errors into errUsage (the flag
// package has already printed them).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}
