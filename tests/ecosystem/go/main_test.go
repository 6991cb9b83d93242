// The Go clients against Samsa: TestMain starts one broker ($SAMSA_BROKER on
// 127.0.0.1, a free port from $SAMSA_ECO_PORT_BASE, a temp data dir) that
// every test shares (unique topic and group names keep them apart), and stops
// it by PID with SIGTERM at the end, failing the run if it did not exit 0.
//
// compat(t, client, feature) records one JSON line per (client, feature) in
// $SAMSA_COMPAT_DIR/go.jsonl from the test's own outcome (t.Failed(),
// t.Skipped()) when the test ends; client versions come from the test
// binary's build info (debug.ReadBuildInfo), i.e. go.mod's pins.
package gotest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// broker is the address of the shared Samsa broker ("127.0.0.1:port");
// dataDir its log.dirs.
var broker, dataDir string

// brokerOverrides: settings that make a one-node test broker quick. Groups
// start rebalancing at once; members may use short session timeouts.
var brokerOverrides = []string{
	"node.id=0",
	"auto.create.topics.enable=true",
	"num.partitions=1",
	"offsets.topic.num.partitions=4",
	"group.initial.rebalance.delay.ms=0",
	"group.min.session.timeout.ms=1000",
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	bin := os.Getenv("SAMSA_BROKER")
	if bin == "" {
		fmt.Fprintln(os.Stderr, "go suite: SAMSA_BROKER is not set (run.sh sets it)")
		return 2
	}
	dir, err := os.MkdirTemp("", "samsa-go-eco-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go suite:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go suite:", err)
		return 2
	}
	broker = fmt.Sprintf("127.0.0.1:%d", port)
	dataDir = filepath.Join(dir, "data")
	args := []string{"--override", "listeners=PLAINTEXT://" + broker,
		"--override", "log.dirs=" + dataDir}
	// SAMSA_GO_OVERRIDES: more KEY=VALUE settings, comma-separated (to try the
	// suite against another broker configuration by hand).
	extra := strings.FieldsFunc(os.Getenv("SAMSA_GO_OVERRIDES"), func(r rune) bool { return r == ',' })
	for _, o := range append(brokerOverrides, extra...) {
		args = append(args, "--override", o)
	}
	logPath := filepath.Join(dir, "broker.log")
	logf, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go suite:", err)
		return 2
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, dir
	// The broker dies with us if this test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "go suite: start broker:", err)
		return 2
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	brokerTail := func() string {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		return strings.Join(lines, "\n")
	}
	if err := waitListening(broker, exited, 10*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "go suite: broker %s: %v\n%s\n", broker, err, brokerTail())
		_ = cmd.Process.Kill()
		return 2
	}
	fmt.Printf("go suite: Samsa broker pid %d on %s (data %s)\n", cmd.Process.Pid, broker, dir)

	t0 := time.Now()
	rc := m.Run()
	t1 := time.Now()

	// Stop it by PID; it must exit 0 (clean shutdown) within 20 s.
	defer func() {
		fmt.Printf("go suite: tests %.1f s, broker stop %.1f s\n", t1.Sub(t0).Seconds(), time.Since(t1).Seconds())
		// The broker's warnings (a request it could not parse, ...) are worth
		// a look even when every test passed.
		b, _ := os.ReadFile(logPath)
		var warns []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, " WARN ") || strings.Contains(l, " ERROR ") {
				warns = append(warns, l)
			}
		}
		if keep := os.Getenv("SAMSA_GO_KEEP_LOG"); keep != "" {
			_ = os.WriteFile(keep, b, 0o644) // e.g. with SAMSA_GO_OVERRIDES=samsa.log.level=debug
		}
		if len(warns) > 0 {
			fmt.Printf("go suite: %d broker warnings, the first:\n  %s\n", len(warns), strings.Join(warns[:min(len(warns), 15)], "\n  "))
		}
	}()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			fmt.Fprintf(os.Stderr, "go suite: broker exited with %v after SIGTERM\n%s\n", err, brokerTail())
			rc = 1
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		fmt.Fprintf(os.Stderr, "go suite: broker did not exit within 20 s of SIGTERM; killed\n%s\n", brokerTail())
		rc = 1
	}
	if rc != 0 {
		if b, _ := os.ReadFile(logPath); len(b) > 0 {
			fmt.Fprintf(os.Stderr, "go suite: broker log tail:\n%s\n", brokerTail())
		}
	}
	return rc
}

// freePort: the first port from $SAMSA_ECO_PORT_BASE (default 27500) on that
// nobody listens, within 900 ports.
func freePort() (int, error) {
	base := 27500
	if s := os.Getenv("SAMSA_ECO_PORT_BASE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("SAMSA_ECO_PORT_BASE=%q: %v", s, err)
		}
		base = v
	}
	for p := base; p < base+900; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port in %d..%d", base, base+899)
}

func waitListening(addr string, exited chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("exited before listening: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not listening after %v", limit)
}

// --- compatibility results ---------------------------------------------------

// clients: client name -> its module path and one of its functions. The
// version is read at run time from where that function was compiled from:
// the module cache path "<module>@<version>/..." (go test binaries carry no
// dependency build info, so debug.ReadBuildInfo is only the first try).
var clients = map[string]struct {
	module string
	fn     any
}{
	"franz-go":      {"github.com/twmb/franz-go", kgo.NewClient},
	"franz-go/kadm": {"github.com/twmb/franz-go/pkg/kadm", kadm.NewClient},
	"sarama":        {"github.com/IBM/sarama", sarama.NewClient},
	"kafka-go":      {"github.com/segmentio/kafka-go", kafka.NewReader},
}

var (
	compatMu   sync.Mutex
	versionsMu sync.Mutex
	versions   = map[string]string{}
)

func clientVersion(name string) string {
	c := clients[name]
	versionsMu.Lock()
	defer versionsMu.Unlock()
	if v, ok := versions[name]; ok {
		return v
	}
	v := "?"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == c.module {
				v = strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	if v == "?" {
		pc := reflect.ValueOf(c.fn).Pointer()
		if f := runtime.FuncForPC(pc); f != nil {
			file, _ := f.FileLine(pc)
			// .../github.com/twmb/franz-go@v1.22.3/pkg/kgo/client.go; the
			// module cache escapes capitals (github.com/!i!b!m/sarama@v1.61.1).
			mod := escapeModule(c.module)
			if i := strings.Index(file, mod+"@v"); i >= 0 {
				rest := file[i+len(mod)+2:]
				if j := strings.IndexByte(rest, '/'); j > 0 {
					v = rest[:j]
				}
			}
		}
	}
	versions[name] = v
	return v
}

// escapeModule: a module path as the module cache spells it, each capital
// letter as '!' and its lower case.
func escapeModule(path string) string {
	var b strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// skipReason: the reason a test gave for its skip (compatSkip), by test name.
var skipReason sync.Map

// compatSkip skips the test, keeping the reason for its compat line.
func compatSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	skipReason.Store(t.Name(), msg)
	t.Skip(msg)
}

// compat records, when t ends, one result line for (client, feature).
func compat(t *testing.T, client, feature string) {
	t.Helper()
	if _, ok := clients[client]; !ok {
		t.Fatalf("compat: unknown client %q", client)
	}
	t.Cleanup(func() {
		result, reason := "pass", ""
		switch {
		case t.Failed():
			result, reason = "fail", "test failed: "+t.Name()+" (see the go test output)"
		case t.Skipped():
			result = "skip"
			if r, ok := skipReason.Load(t.Name()); ok {
				reason = r.(string)
			} else {
				reason = "skipped"
			}
		}
		writeCompat(map[string]string{
			"client": client, "lang": "Go", "version": clientVersion(client),
			"feature": feature, "result": result, "test": t.Name(), "reason": reason,
		})
	})
}

func writeCompat(rec map[string]string) {
	dir := os.Getenv("SAMSA_COMPAT_DIR")
	if dir == "" {
		return
	}
	if rec["reason"] == "" {
		delete(rec, "reason")
	}
	b, _ := json.Marshal(rec)
	compatMu.Lock()
	defer compatMu.Unlock()
	f, err := os.OpenFile(filepath.Join(dir, "go.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go suite: compat:", err)
		return
	}
	defer f.Close()
	_, _ = f.Write(append(b, '\n'))
}

// --- small helpers -----------------------------------------------------------

var nameSeq atomic.Int64
var runID = strconv.FormatInt(time.Now().UnixNano()%1_000_000, 36)

// uniq returns a topic or group name unique to this run.
func uniq(prefix string) string {
	return fmt.Sprintf("go-%s-%s-%d", prefix, runID, nameSeq.Add(1))
}

// ctxFor: a context that ends after d or when the test ends.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 50 ms until it holds or d passes (then fails t).
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// payload i of a test's messages: key and value carry the index.
func keyOf(i int) string   { return fmt.Sprintf("k%04d", i) }
func valueOf(i int) string { return fmt.Sprintf("value-%04d-%s", i, strings.Repeat("x", i%50)) }

// --- messages in a client-neutral form ---------------------------------------

// msg is one consumed message as every client's tests check it.
type msg struct {
	Key, Value string
	Headers    [][2]string // key, value
	Partition  int32
	Offset     int64
}

// checkMessages: the n messages keyOf(0..n-1), each exactly once, with its
// value and the two headers (idx = its index, empty = no value), and per
// partition the offsets 0, 1, 2, ... in the order given (sort by partition
// and offset first where the client mixes partitions).
func checkMessages(t *testing.T, got []msg, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d messages, want %d", len(got), n)
	}
	seen := map[string]bool{}
	next := map[int32]int64{}
	for _, m := range got {
		var i int
		if _, err := fmt.Sscanf(m.Key, "k%d", &i); err != nil || seen[m.Key] || m.Value != valueOf(i) {
			t.Fatalf("message %q = %q (seen before: %v)", m.Key, m.Value, seen[m.Key])
		}
		seen[m.Key] = true
		if len(m.Headers) != 2 || m.Headers[0] != [2]string{"idx", fmt.Sprint(i)} || m.Headers[1] != [2]string{"empty", ""} {
			t.Fatalf("message %s: headers %q", m.Key, m.Headers)
		}
		if m.Offset != next[m.Partition] {
			t.Fatalf("message %s at %d/%d, want offset %d", m.Key, m.Partition, m.Offset, next[m.Partition])
		}
		next[m.Partition]++
	}
}

// sortMessages orders by partition, then offset.
func sortMessages(ms []msg) []msg {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Partition != ms[j].Partition {
			return ms[i].Partition < ms[j].Partition
		}
		return ms[i].Offset < ms[j].Offset
	})
	return ms
}

// collector gathers what one group member consumed (any goroutine).
type collector struct {
	mu  sync.Mutex
	got []msg
}

func (c *collector) add(ms ...msg) {
	c.mu.Lock()
	c.got = append(c.got, ms...)
	c.mu.Unlock()
}

func (c *collector) list() []msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]msg(nil), c.got...)
}

// groupSplit waits until the members consumed n messages between them, then
// checks each partition went to one member only, that parts partitions were
// consumed, and the messages themselves (checkMessages).
func groupSplit(t *testing.T, members []*collector, n, parts int) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("%d messages consumed by the group", n), func() bool {
		s := 0
		for _, c := range members {
			s += len(c.list())
		}
		return s >= n
	})
	var all []msg
	owner := map[int32]int{}
	for i, c := range members {
		for _, m := range c.list() {
			if o, ok := owner[m.Partition]; ok && o != i {
				t.Errorf("partition %d consumed by members %d and %d", m.Partition, o, i)
			}
			owner[m.Partition] = i
			all = append(all, m)
		}
	}
	if len(owner) != parts {
		t.Fatalf("messages from %d partitions, want %d", len(owner), parts)
	}
	checkMessages(t, sortMessages(all), n)
}

// codec is one produce codec: its subtest name, feature key and Kafka's
// attribute id (what a fetched batch says it holds).
type codec struct {
	name, feature string
	id            uint8
}

var codecs = []codec{
	{"none", "produce", 0}, {"gzip", "produce.gzip", 1}, {"snappy", "produce.snappy", 2},
	{"lz4", "produce.lz4", 3}, {"zstd", "produce.zstd", 4},
}

// forCodecs runs fn as a parallel subtest per codec, each recording its
// produce feature for client; the uncompressed one also records plain (the
// features it checks besides, e.g. headers and consume).
func forCodecs(t *testing.T, client string, plain []string, fn func(t *testing.T, c codec)) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			compat(t, client, c.feature)
			if c.id == 0 {
				for _, f := range plain {
					compat(t, client, f)
				}
			}
			fn(t, c)
		})
	}
}

// begin runs t in parallel with the other tests and records its features
// for client (compat).
func begin(t *testing.T, client string, features ...string) {
	t.Helper()
	t.Parallel()
	for _, f := range features {
		compat(t, client, f)
	}
}

// churn drives a consumer group through a join and a leave while n
// messages flow: join() starts a member (its collector, its stop), ready()
// waits until the first two share the partitions, send(from, to) produces
// messages from..to-1 in batches of 30. A third member joins after 300, the
// first leaves after 600. Returns how many deliveries were repeats, once all
// n keys were consumed.
func churn(t *testing.T, n int, join func() (*collector, func()), ready func(), send func(from, to int)) int {
	t.Helper()
	var cs []*collector
	var stops []func()
	add := func() {
		c, stop := join()
		cs, stops = append(cs, c), append(stops, stop)
	}
	add()
	add()
	ready()
	for i := 0; i < n; i += 30 {
		send(i, i+30)
		switch i {
		case 300:
			add()
		case 600:
			stops[0]()
		}
	}
	seen := func() map[string]int {
		keys := map[string]int{}
		for _, c := range cs {
			for _, m := range c.list() {
				keys[m.Key]++
			}
		}
		return keys
	}
	waitFor(t, 20*time.Second, fmt.Sprintf("all %d messages consumed", n), func() bool { return len(seen()) == n })
	dups := 0
	for _, c := range seen() {
		dups += c - 1
	}
	return dups
}
