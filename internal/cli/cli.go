// Package cli is the gluster command line: it parses GlusterFS's command
// words, sends the request to the local glusterd (internal/mgmt, over
// internal/mgmt/api) and prints the answer in GlusterFS's text or XML
// layout. It never touches bricks or volfiles itself.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
)

// Default directories printed by --print-logdir and --print-statedumpdir.
const (
	DefaultLogDir       = "/var/log/glusterfs"
	DefaultStatedumpDir = "/var/run/gluster"
)

// session is one CLI invocation: global options and where output goes.
type session struct {
	script  bool // --mode=script: no confirmations
	xml     bool
	host    string // glusterd to talk to
	timeout time.Duration
	in      *bufio.Reader
	out     io.Writer
	errw    io.Writer
}

// failure is a command's one-line error; it was already decorated with
// the command's prefix ("volume create: v: failed: ...").
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

// silent is a failure that has been reported (XML output, declined
// confirmation).
var silent = errors.New("")

// Main runs the CLI with args (without the program name) and returns the
// exit status: 0 on success, 1 on failure.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &session{
		host:    os.Getenv("GLUSTERD_HOST"),
		timeout: 120 * time.Second,
		in:      bufio.NewReader(stdin),
		out:     stdout,
		errw:    stderr,
	}
	if s.host == "" {
		s.host = "127.0.0.1"
		if b, err := os.ReadFile(filepath.Join(DefaultStatedumpDir, api.AddrFile)); err == nil {
			s.host = strings.TrimSpace(string(b))
		}
	}
	var words []string
	help := false
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			words = append(words, a)
			continue
		}
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "--mode":
			if v != "script" {
				fmt.Fprintf(stderr, "unrecognized option %s\n", a)
				return 1
			}
			s.script = true
		case "--xml":
			s.xml = true
		case "--help":
			help = true
		case "--remote-host":
			s.host = v
		case "--timeout":
			d, err := time.ParseDuration(v + "s")
			if err != nil {
				fmt.Fprintf(stderr, "invalid timeout %q\n", v)
				return 1
			}
			s.timeout = d
		case "--print-logdir":
			fmt.Fprintln(stdout, DefaultLogDir)
			return 0
		case "--print-statedumpdir":
			fmt.Fprintln(stdout, DefaultStatedumpDir)
			return 0
		case "--version":
			// Scripts parse the first line, as GlusterFS prints it.
			fmt.Fprintf(stdout, "glusterfs %s\nRepository revision: https://github.com/gluster-go/gluster-go\n", api.Version)
			return 0
		case "--log-file", "--log-level", "--glusterd-sock", "--secure-mgmt", "--inet6":
			// Accepted for compatibility; this CLI logs nothing and talks HTTP.
		default:
			fmt.Fprintf(stderr, "unrecognized option %s\n", a)
			return 1
		}
	}
	if help {
		words = append([]string{"help"}, words...)
	}
	root := s.commands()
	root.SetArgs(words)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, silent):
		return 1
	}
	var f *failure
	if errors.As(err, &f) {
		fmt.Fprintln(stderr, f.msg)
	} else {
		fmt.Fprintln(stderr, err)
	}
	return 1
}

// commands builds the command tree. Flag parsing is off: GlusterFS's
// commands are plain words ("replica 2", "force"), and global "--" options
// were taken out above.
func (s *session) commands() *cobra.Command {
	root := &cobra.Command{
		Use:           "gluster",
		Short:         "Gluster command line",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          unrecognized(0),
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(s.peerCommands(), s.poolCommands(), s.volumeCommands())
	return root
}

// group returns a parent command whose unknown sub-words are refused as
// GlusterFS does.
func group(name, short string, depth int) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              short,
		Args:               cobra.ArbitraryArgs,
		DisableFlagParsing: true,
		RunE:               unrecognized(depth),
	}
}

func unrecognized(depth int) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return &failure{"Usage: " + cmd.CommandPath() + " <command> (see 'gluster help')"}
		}
		if args[0] == "help" {
			return cmd.Help()
		}
		return &failure{fmt.Sprintf("unrecognized word: %s (position %d)", args[0], depth)}
	}
}

// leaf returns a command that takes GlusterFS words.
func leaf(use, short string, run func(args []string) error) *cobra.Command {
	return &cobra.Command{
		Use:                   use,
		Short:                 short,
		Args:                  cobra.ArbitraryArgs,
		DisableFlagParsing:    true,
		DisableFlagsInUseLine: true,
		RunE:                  func(_ *cobra.Command, args []string) error { return run(args) },
	}
}

func usage(pattern string) error { return &failure{"Usage: " + pattern} }

// call sends one request to glusterd.
func (s *session) call(method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return api.NewClient(s.host, s.timeout).Call(ctx, method, path, in, out)
}

// fail turns a call's error into the command's one-line failure: the
// prefix ("volume start: v: failed") and GlusterFS's reason.
func (s *session) fail(prefix string, err error) error {
	if errors.Is(err, api.ErrConnect) {
		if s.xml {
			s.xmlResult(-1, -1, api.ErrConnect.Error(), nil)
			return silent
		}
		return &failure{api.ErrConnect.Error()}
	}
	msg := err.Error()
	var oe *api.OpError
	if errors.As(err, &oe) {
		msg = oe.Msg
	}
	if s.xml {
		s.xmlResult(-1, -1, msg, nil)
		return silent
	}
	if prefix == "" {
		return &failure{msg}
	}
	return &failure{prefix + ": " + msg}
}

// confirm asks question unless in script mode; "y" goes on.
func (s *session) confirm(question string) bool {
	if s.script {
		return true
	}
	fmt.Fprintf(s.out, "%s (y/n) ", question)
	line, _ := s.in.ReadString('\n')
	line = strings.ToLower(strings.TrimSpace(line))
	return line == "y" || line == "yes"
}

// success prints text, or in XML mode the GlusterFS document with
// output (and cliOp when set).
func (s *session) success(op, output, text string) error {
	if s.xml {
		s.xmlResult(0, 0, "", func(x *xmlWriter) {
			if op != "" {
				x.leaf("cliOp", op)
			}
			x.leaf("output", output)
		})
		return nil
	}
	fmt.Fprintln(s.out, text)
	return nil
}
