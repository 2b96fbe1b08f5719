package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"sieve/internal/cli"
	"sieve/model/hub"
)

func pullCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ref, err := parseRefArg("sieve pull", "downloads a GGUF file, or a safetensors model directory with its tokenizer,\n"+
		"from the Hugging Face hub into the model cache and prints its local path.\n"+
		"Without :FILE it takes the repository's safetensors model, or its only GGUF file.", args, stderr)
	if err != nil {
		return err
	}
	c, err := newHubClient(stderr)
	if err != nil {
		return err
	}
	path, err := c.Pull(ctx, ref)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, path)
	return nil
}

func modelsCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve models", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sieve models\n\nlists the models in the cache: "+cacheHelp)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := hub.DefaultCacheDir()
	if err != nil {
		return err
	}
	entries, err := hub.Cache{Dir: dir}.List()
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintf(stderr, "no models in %s; get one with: sieve pull REPO[:FILE]\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILE\tSIZE\tPATH")
	for _, e := range entries {
		file := e.File
		if file == "" {
			file = "(safetensors directory)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Repo, file, sizeMB(e.Size), e.Path)
	}
	return tw.Flush()
}

func rmCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	ref, err := parseRefArg("sieve rm", "removes a model from the cache: with :FILE that file, else the whole repository.", args, stderr)
	if err != nil {
		return err
	}
	dir, err := hub.DefaultCacheDir()
	if err != nil {
		return err
	}
	freed, err := hub.Cache{Dir: dir}.Remove(ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %s (%s)\n", ref, sizeMB(freed))
	return nil
}

// cacheHelp says where the model cache is.
const cacheHelp = "$SIEVE_HOME/hub if SIEVE_HOME is set, else an existing Hugging Face\n" +
	"hub cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub), else sieve/hub in\n" +
	"the user's cache directory."

// parseRefArg parses the one REPO[:FILE] argument of pull and rm.
func parseRefArg(name, what string, args []string, stderr io.Writer) (hub.Ref, error) {
	fs := cli.NewFlagSet(name, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s ORG/NAME[:FILE]   (or hf://ORG/NAME[/FILE])\n\n%s %s\n\nThe cache is %s\n"+
			"HF_TOKEN, when set, is sent to the hub (private and gated models); HF_ENDPOINT\n"+
			"replaces https://huggingface.co.\n", name, name, what, cacheHelp)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return hub.Ref{}, err
		}
		return hub.Ref{}, errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return hub.Ref{}, errUsage
	}
	return hub.ParseRef(fs.Arg(0))
}

// newHubClient returns a hub client configured from the environment that
// draws download progress on stderr.
func newHubClient(stderr io.Writer) (*hub.Client, error) {
	c, err := hub.FromEnv()
	if err != nil {
		return nil, err
	}
	c.Progress = hub.NewBar(stderr, isTerminal(stderr))
	return c, nil
}

// sizeMB formats a byte count in megabytes.
func sizeMB(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
