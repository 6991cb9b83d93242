// franz-go (github.com/twmb/franz-go/pkg/kgo) against Samsa: the producer
// (idempotent with acks=all is its default; every codec; headers), partition
// consumers with seeks and offsets by time, consumer groups with the
// cooperative-sticky default and an eager balancer, static membership, and
// commits with resume. Each test asserts the records themselves (keys,
// values, headers, offsets, codecs), not just that nothing failed.
package gotest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const franz = "franz-go"

func franzClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(broker), kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.RetryTimeout(10 * time.Second)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func franzAdmin(t *testing.T) *kadm.Client {
	return kadm.NewClient(franzClient(t))
}

// franzTopic creates a topic with n partitions and waits until it is usable.
func franzTopic(t *testing.T, n int32, configs map[string]*string) string {
	t.Helper()
	topic := uniq("t")
	resp, err := franzAdmin(t).CreateTopic(ctxFor(t, 15*time.Second), n, 1, configs, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, resp.Err)
	}
	return topic
}

// records builds n records with keys, values and two headers each.
func franzRecords(topic string, n int) []*kgo.Record {
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Key: []byte(keyOf(i)), Value: []byte(valueOf(i)),
			Headers: []kgo.RecordHeader{{Key: "idx", Value: fmt.Appendf(nil, "%d", i)},
				{Key: "empty", Value: nil}}}
	}
	return rs
}

// franzFill produces franzRecords(topic, n) with a new (idempotent) client.
func franzFill(t *testing.T, topic string, n int) {
	t.Helper()
	if err := franzClient(t).ProduceSync(ctxFor(t, 10*time.Second), franzRecords(topic, n)...).FirstErr(); err != nil {
		t.Fatalf("produce %d records to %s: %v", n, topic, err)
	}
}

// consumeAll reads partitions of topic from the start until want records came.
func franzConsumeAll(t *testing.T, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := franzClient(t, append([]kgo.Opt{kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	return franzPoll(t, cl, want, 15*time.Second)
}

func franzPoll(t *testing.T, cl *kgo.Client, want int, limit time.Duration) []*kgo.Record {
	t.Helper()
	ctx := ctxFor(t, limit)
	var got []*kgo.Record
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("polled %d of %d records before the deadline", len(got), want)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Errorf("fetch %s[%d]: %v", topic, p, err)
		})
		got = append(got, fs.Records()...)
	}
	return got
}

// franzMsgs converts records for checkMessages.
func franzMsgs(rs []*kgo.Record) []msg {
	out := make([]msg, len(rs))
	for i, r := range rs {
		m := msg{Key: string(r.Key), Value: string(r.Value), Partition: r.Partition, Offset: r.Offset}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, [2]string{h.Key, string(h.Value)})
		}
		out[i] = m
	}
	return out
}

// franzBatchCheck reads topic with franz-go and checks the stored batches'
// codec and whether an idempotent producer (id >= 0) wrote them; any
// client's produce tests use it.
func franzBatchCheck(t *testing.T, topic string, n int, codec uint8, idempotent bool) []*kgo.Record {
	t.Helper()
	got := franzConsumeAll(t, topic, n)
	for _, r := range got {
		if r.Attrs.CompressionType() != codec {
			t.Fatalf("record %s stored with codec %d, want %d", r.Key, r.Attrs.CompressionType(), codec)
		}
		if idempotent != (r.ProducerID >= 0) {
			t.Fatalf("record %s: producer id %d (idempotent %v)", r.Key, r.ProducerID, idempotent)
		}
	}
	return got
}

func TestFranzProduce(t *testing.T) {
	t.Parallel()
	adm := franzAdmin(t)
	franzCodec := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}
	plain := []string{"produce.idempotent", "produce.headers", "consume"}
	forCodecs(t, franz, plain, func(t *testing.T, c codec) {
		const n = 300
		topic := franzTopic(t, 3, nil)
		// The defaults: idempotent, acks=all.
		p := franzClient(t, kgo.ProducerBatchCompression(franzCodec[c.name]), kgo.ProducerLinger(20*time.Millisecond))
		res := p.ProduceSync(ctxFor(t, 15*time.Second), franzRecords(topic, n)...)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		pid, epoch, err := p.ProducerID(ctxFor(t, 5*time.Second))
		if err != nil || pid < 0 || epoch < 0 {
			t.Fatalf("producer id %d epoch %d err %v: not idempotent", pid, epoch, err)
		}
		got := franzBatchCheck(t, topic, n, c.id, true)
		checkMessages(t, sortMessages(franzMsgs(got)), n)
		for _, r := range got {
			if r.ProducerID != pid {
				t.Fatalf("record %s: producer id %d, want %d", r.Key, r.ProducerID, pid)
			}
		}
		// acks=1 without idempotence, too, for the plain case.
		if c.name == "none" {
			p1 := franzClient(t, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
			r := &kgo.Record{Topic: topic, Partition: 0, Key: []byte("acks1"), Value: []byte("one")}
			if err := p1.ProduceSync(ctxFor(t, 10*time.Second), r).FirstErr(); err != nil {
				t.Fatalf("acks=1 produce: %v", err)
			}
			if r.ProducerID != -1 {
				t.Fatalf("acks=1 non-idempotent record has producer id %d", r.ProducerID)
			}
			ends, err := adm.ListEndOffsets(ctxFor(t, 5*time.Second), topic)
			if err != nil {
				t.Fatal(err)
			}
			o, _ := ends.Lookup(topic, r.Partition)
			if o.Offset != r.Offset+1 {
				t.Fatalf("end offset %d after acks=1 record at %d", o.Offset, r.Offset)
			}
		}
	})
}

func TestFranzSeekAndTimes(t *testing.T) {
	t.Parallel()
	adm := franzAdmin(t)
	topic := franzTopic(t, 1, nil)
	p := franzClient(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var rs []*kgo.Record
	for i := 0; i < 20; i++ {
		// Timestamps 10 s apart, an hour ago.
		rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(keyOf(i)), Value: []byte(valueOf(i)),
			Timestamp: base.Add(time.Duration(i) * 10 * time.Second)})
	}
	if err := p.ProduceSync(ctxFor(t, 10*time.Second), rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	t.Run("seek", func(t *testing.T) {
		compat(t, franz, "consume.seek")
		c := franzClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().At(12)}}))
		got := franzPoll(t, c, 1, 10*time.Second)
		if got[0].Offset != 12 || string(got[0].Key) != keyOf(12) {
			t.Fatalf("first record after At(12): offset %d key %s", got[0].Offset, got[0].Key)
		}
		// Seek back to 3, then relative from the end.
		c.SetOffsets(map[string]map[int32]kgo.EpochOffset{topic: {0: {Epoch: -1, Offset: 3}}})
		got = franzPoll(t, c, 1, 10*time.Second)
		if got[0].Offset != 3 || string(got[0].Value) != valueOf(3) {
			t.Fatalf("first record after seek to 3: offset %d value %s", got[0].Offset, got[0].Value)
		}
		c2 := franzClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().AtEnd().Relative(-2)}}))
		got = franzPoll(t, c2, 2, 10*time.Second)
		if got[0].Offset != 18 || got[1].Offset != 19 {
			t.Fatalf("AtEnd().Relative(-2): offsets %d, %d", got[0].Offset, got[1].Offset)
		}
	})

	t.Run("offsets_for_times", func(t *testing.T) {
		compat(t, franz, "consume.offsets_for_times")
		// 35 s after base: the first record at or after it is 4 (40 s).
		ms := base.Add(35 * time.Second).UnixMilli()
		lo, err := adm.ListOffsetsAfterMilli(ctxFor(t, 5*time.Second), ms, topic)
		if err != nil {
			t.Fatal(err)
		}
		o, ok := lo.Lookup(topic, 0)
		if !ok || o.Err != nil || o.Offset != 4 || o.Timestamp != base.Add(40*time.Second).UnixMilli() {
			t.Fatalf("ListOffsetsAfterMilli: %+v (ok %v), want offset 4 at %d", o, ok, base.Add(40*time.Second).UnixMilli())
		}
		// Past the last record: the end offset (Kafka answers -1, kadm maps it).
		lo, err = adm.ListOffsetsAfterMilli(ctxFor(t, 5*time.Second), time.Now().Add(time.Hour).UnixMilli(), topic)
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := lo.Lookup(topic, 0); o.Offset != 20 {
			t.Fatalf("offset for a future time: %+v, want the end (20)", o)
		}
		// The consumer side: start at a time.
		c := franzClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().AfterMilli(base.Add(151 * time.Second).UnixMilli())}}))
		got := franzPoll(t, c, 1, 10*time.Second)
		if got[0].Offset != 16 || !got[0].Timestamp.Equal(base.Add(160*time.Second)) {
			t.Fatalf("AfterMilli(151 s): offset %d ts %v", got[0].Offset, got[0].Timestamp)
		}
	})
}

// groupMember is one franz-go group member and what it consumed.
type groupMember struct {
	cl       *kgo.Client
	mu       sync.Mutex
	assigned map[int32]bool
	got      collector
	stop     func() // stop polling and close the client (leaves the group unless static)
}

func (m *groupMember) partitions() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.assigned {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

// startMember joins group on topic; its assignment is tracked from the
// callbacks, and a goroutine polls until the test ends.
func startMember(t *testing.T, group, topic string, opts ...kgo.Opt) *groupMember {
	m := &groupMember{assigned: map[int32]bool{}}
	base := []kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(6 * time.Second), kgo.HeartbeatInterval(300 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			for _, p := range a[topic] {
				m.assigned[p] = true
			}
			m.mu.Unlock()
		}),
		// Setting OnPartitionsRevoked replaces kgo's default, which commits
		// what was polled before the partitions go: do that here too.
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				t.Logf("commit on revoke: %v", err)
			}
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.assigned, p)
			}
			m.mu.Unlock()
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.assigned, p)
			}
			m.mu.Unlock()
		}),
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(broker),
		kgo.FetchMaxWait(200 * time.Millisecond)}, base...), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			m.got.add(franzMsgs(fs.Records())...)
		}
	}()
	var once sync.Once
	m.stop = func() { once.Do(func() { cancel(); <-done; cl.Close() }) }
	t.Cleanup(m.stop)
	return m
}

// testFranzGroup: 3 members share a 6-partition topic; once all have their
// share (2 partitions each, disjoint), 300 records arrive and each is
// consumed exactly once, by the member that owns its partition.
func testFranzGroup(t *testing.T, feature string, balancer kgo.GroupBalancer, protocol string) {
	t.Parallel()
	compat(t, franz, feature)
	adm := franzAdmin(t)
	topic := franzTopic(t, 6, nil)
	group := uniq("g")
	var ms []*groupMember
	var cs []*collector
	for i := 0; i < 3; i++ {
		m := startMember(t, group, topic, kgo.Balancers(balancer))
		ms, cs = append(ms, m), append(cs, &m.got)
	}
	balanced := func() bool {
		owner := map[int32]int{}
		for i, m := range ms {
			ps := m.partitions()
			if len(ps) != 2 {
				return false
			}
			for _, p := range ps {
				if _, dup := owner[p]; dup {
					return false
				}
				owner[p] = i
			}
		}
		return len(owner) == 6
	}
	waitFor(t, 30*time.Second, "3 members with 2 partitions each", balanced)
	dg, err := adm.DescribeGroups(ctxFor(t, 5*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	g := dg[group]
	if g.State != "Stable" || g.Protocol != protocol || len(g.Members) != 3 {
		t.Fatalf("group %s: state %s protocol %s members %d", group, g.State, g.Protocol, len(g.Members))
	}
	franzFill(t, topic, 300)
	groupSplit(t, cs, 300, 6)
}

func TestFranzGroup(t *testing.T) {
	t.Parallel()
	t.Run("cooperative-sticky", func(t *testing.T) {
		testFranzGroup(t, "group.cooperative", kgo.CooperativeStickyBalancer(), "cooperative-sticky")
	})
	t.Run("range", func(t *testing.T) { testFranzGroup(t, "group.eager", kgo.RangeBalancer(), "range") })
}

// Static membership (KIP-345): a member with an instance id that closes
// without leaving and comes back within the session timeout gets its
// partitions again with no rebalance (same generation), and DescribeGroups
// shows the instance id.
func TestFranzStaticMember(t *testing.T) {
	begin(t, franz, "group.static")
	adm := franzAdmin(t)
	topic := franzTopic(t, 2, nil)
	group := uniq("g")
	inst := "static-" + group
	m1 := startMember(t, group, topic, kgo.InstanceID(inst))
	waitFor(t, 20*time.Second, "the static member's assignment", func() bool { return len(m1.partitions()) == 2 })
	memberID, gen := m1.cl.GroupMetadata()
	dg, err := adm.DescribeGroups(ctxFor(t, 5*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	g := dg[group]
	if len(g.Members) != 1 || g.Members[0].InstanceID == nil || *g.Members[0].InstanceID != inst ||
		g.Members[0].MemberID != memberID {
		t.Fatalf("described members %+v, want one with instance id %s", g.Members, inst)
	}
	// Close: a static member does not send LeaveGroup, the broker keeps it.
	m1.stop()
	dg, _ = adm.DescribeGroups(ctxFor(t, 5*time.Second), group)
	if g := dg[group]; len(g.Members) != 1 || g.State != "Stable" {
		t.Fatalf("after the static member closed: state %s, %d members (want it kept)", g.State, len(g.Members))
	}
	m2 := startMember(t, group, topic, kgo.InstanceID(inst))
	waitFor(t, 20*time.Second, "the static member's assignment after rejoining", func() bool { return len(m2.partitions()) == 2 })
	memberID2, gen2 := m2.cl.GroupMetadata()
	if gen2 != gen {
		t.Fatalf("generation %d after the static member rejoined, want %d (no rebalance)", gen2, gen)
	}
	if memberID2 == memberID {
		t.Fatalf("the rejoined static member kept member id %s; the broker must give it a new one", memberID)
	}
}

// Commits and resume: consume 40 of 100 records, commit them, close; a new
// member of the same group starts at 40; kadm sees the committed offset.
func TestFranzCommitResume(t *testing.T) {
	begin(t, franz, "group.commit")
	adm := franzAdmin(t)
	topic := franzTopic(t, 1, nil)
	group := uniq("g")
	franzFill(t, topic, 100)
	opts := []kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.SessionTimeout(6 * time.Second)}
	c1 := franzClient(t, opts...)
	ctx := ctxFor(t, 15*time.Second)
	var got []*kgo.Record
	for len(got) < 40 {
		fs := c1.PollRecords(ctx, 40-len(got))
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 40", len(got))
		}
		got = append(got, fs.Records()...)
	}
	if err := c1.CommitRecords(ctx, got[len(got)-1]); err != nil {
		t.Fatalf("commit: %v", err)
	}
	c1.Close()
	offs, err := adm.FetchOffsets(ctxFor(t, 5*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); !ok || o.At != 40 || o.Err != nil {
		t.Fatalf("committed offset %+v, want 40", o)
	}
	c2 := franzClient(t, opts...)
	rest := franzPoll(t, c2, 60, 15*time.Second)
	if len(rest) != 60 || rest[0].Offset != 40 || string(rest[0].Key) != keyOf(40) || rest[59].Offset != 99 {
		t.Fatalf("resumed at offset %d key %s, %d records", rest[0].Offset, rest[0].Key, len(rest))
	}
	if err := c2.CommitUncommittedOffsets(ctxFor(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	offs, _ = adm.FetchOffsets(ctxFor(t, 5*time.Second), group)
	if o, _ := offs.Lookup(topic, 0); o.At != 100 {
		t.Fatalf("committed offset after the rest: %d, want 100", o.At)
	}
}

// Producing to a missing topic with AllowAutoTopicCreation creates it
// (auto.create.topics.enable=true, num.partitions=1); without the option
// franz-go does not ask for it and the record fails with
// UNKNOWN_TOPIC_OR_PARTITION.
func TestFranzAutoCreate(t *testing.T) {
	begin(t, franz, "topic.auto_create")
	topic := uniq("auto")
	p := franzClient(t, kgo.AllowAutoTopicCreation())
	if err := p.ProduceSync(ctxFor(t, 15*time.Second), franzRecords(topic, 5)...).FirstErr(); err != nil {
		t.Fatalf("produce to a new topic: %v", err)
	}
	td, err := franzAdmin(t).ListTopics(ctxFor(t, 5*time.Second), topic)
	if err != nil || td[topic].Err != nil || len(td[topic].Partitions) != 1 {
		t.Fatalf("the auto-created topic: %v %+v", err, td[topic])
	}
	checkMessages(t, franzMsgs(franzConsumeAll(t, topic, 5)), 5)
	other := uniq("noauto")
	strict := franzClient(t, kgo.UnknownTopicRetries(1))
	err = strict.ProduceSync(ctxFor(t, 15*time.Second), &kgo.Record{Topic: other, Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("produce to a missing topic without auto-creation: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
}

// Members come and go while records flow: 2 members, a third joins, the
// first leaves; with auto-commits and a commit before each revoke every
// message is consumed exactly once, no commit fails, and the group's commits
// reach the end offsets.
func TestFranzGroupChurn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		feature  string
		balancer kgo.GroupBalancer
	}{{"group.cooperative", kgo.CooperativeStickyBalancer()}, {"group.eager", kgo.RangeBalancer()}} {
		t.Run(c.balancer.ProtocolName(), func(t *testing.T) {
			begin(t, franz, c.feature, "group.commit")
			topic := franzTopic(t, 6, nil)
			group := uniq("churn")
			var cerrMu sync.Mutex
			cerrs := map[string]int{}
			opts := []kgo.Opt{kgo.Balancers(c.balancer), kgo.AutoCommitInterval(100 * time.Millisecond),
				kgo.AutoCommitCallback(func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
					cerrMu.Lock()
					defer cerrMu.Unlock()
					if err != nil {
						cerrs[err.Error()]++
						return
					}
					for _, tp := range resp.Topics {
						for _, pp := range tp.Partitions {
							if e := kerr.ErrorForCode(pp.ErrorCode); e != nil {
								cerrs[e.Error()]++
							}
						}
					}
				})}
			defer func() {
				cerrMu.Lock()
				defer cerrMu.Unlock()
				for e, n := range cerrs {
					if !strings.Contains(e, "context canceled") { // a member closing mid-commit
						t.Errorf("auto-commit failed %d times: %s", n, e)
					}
				}
			}()
			var ms []*groupMember
			p := franzClient(t, kgo.ProducerLinger(0))
			const n = 900
			rs := franzRecords(topic, n)
			dups := churn(t, n, func() (*collector, func()) {
				m := startMember(t, group, topic, opts...)
				ms = append(ms, m)
				return &m.got, m.stop
			}, func() {
				waitFor(t, 20*time.Second, "two members with partitions", func() bool {
					return len(ms[0].partitions()) > 0 && len(ms[1].partitions()) > 0
				})
			}, func(from, to int) {
				if err := p.ProduceSync(ctxFor(t, 10*time.Second), rs[from:to]...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			})
			// Each member commits what it polled before its partitions go
			// (startMember's OnPartitionsRevoked) and the next owner starts at
			// the commit, so nothing comes twice.
			if dups != 0 {
				t.Errorf("%d records consumed twice although every revoke committed first", dups)
			}
			adm := franzAdmin(t)
			waitFor(t, 10*time.Second, "the group's commits at the end offsets", func() bool {
				offs, err := adm.FetchOffsets(ctxFor(t, 5*time.Second), group)
				if err != nil {
					return false
				}
				sum := int64(0)
				offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
				return sum == n
			})
		})
	}
}
