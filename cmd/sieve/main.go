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
	"syscall"
)

// command is one subcommand of the sieve binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "generate text from a prompt", runCmd},
		{"serve", "serve the OpenAI-compatible HTTP API", serveCmd},
		{"gen", "write a random-weight llama GGUF of a given shape", genCmd},
		{"bench", "measure speed: 'bench decode' (prefill and decode tok/s), 'bench throughput' (serving), 'bench serve' (an HTTP endpoint)", benchCmd},
		{"analyze", "inspect a model: 'analyze activations' (massive activations), 'analyze attention' (sinks, entropy)", analyzeCmd},
		{"calibrate", "write a layered KV profile from the model's attention at a uniform budget's total", calibrateCmd},
		{"eval", "measure quality: 'eval ppl' (sliding-window perplexity), 'eval divergence' (perplexity, KL and agreement of KV policies vs full), 'eval needle' (retrieval), 'eval longbench' (LongBench files), 'eval ruler' (RULER tasks)", evalCmd},
		{"health", "probe a server's /health; exit 0 only on 200 (for container health checks)", healthCmd},
		{"pull", "download a model from the Hugging Face hub into the cache", pullCmd},
		{"models", "list the cached models", modelsCmd},
		{"rm", "remove a model from the cache", rmCmd},
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "sieve %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "sieve: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// errUsage marks an error already reported as a usage message.
var errUsage = errors.New("usage error")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sieve <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'sieve <command> -h' for a command's flags.")
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
