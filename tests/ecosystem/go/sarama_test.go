// IBM/sarama against Samsa, with Config.Version = sarama.MaxVersion (the
// newest Kafka it knows): SyncProducer and AsyncProducer (idempotent,
// acks=all, every codec, headers), partition consumers with seeks and
// offsets by time, ConsumerGroup with the range, sticky and
// cooperative-sticky strategies and static membership, offset commit and
// resume, and ClusterAdmin. What sarama wrote is also read back with
// franz-go, which shows the batch codec and producer id the broker stored.
package gotest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

const saramaC = "sarama"

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.MaxVersion
	cfg.ClientID = "samsa-go-eco"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1 // required by sarama for idempotence
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 5
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Group.Session.Timeout = 6 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	return cfg
}

func saramaClient(t *testing.T, cfg *sarama.Config) sarama.Client {
	t.Helper()
	if cfg == nil {
		cfg = saramaConfig()
	}
	cl, err := sarama.NewClient([]string{broker}, cfg)
	if err != nil {
		t.Fatalf("sarama.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func saramaAdmin(t *testing.T) sarama.ClusterAdmin {
	t.Helper()
	adm, err := sarama.NewClusterAdmin([]string{broker}, saramaConfig())
	if err != nil {
		t.Fatalf("sarama.NewClusterAdmin: %v", err)
	}
	t.Cleanup(func() { _ = adm.Close() })
	return adm
}

func saramaTopic(t *testing.T, n int32) string {
	t.Helper()
	topic := uniq("s")
	if err := saramaAdmin(t).CreateTopic(topic, &sarama.TopicDetail{NumPartitions: n, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	return topic
}

func saramaMessages(topic string, n int) []*sarama.ProducerMessage {
	ms := make([]*sarama.ProducerMessage, n)
	for i := range ms {
		ms[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(keyOf(i)),
			Value: sarama.StringEncoder(valueOf(i)),
			Headers: []sarama.RecordHeader{{Key: []byte("idx"), Value: fmt.Appendf(nil, "%d", i)},
				{Key: []byte("empty"), Value: nil}}}
	}
	return ms
}

// saramaConsumeAll reads every partition of topic from the oldest offset
// until n messages came, with sarama's partition consumers.
func saramaConsumeAll(t *testing.T, topic string, n int) []*sarama.ConsumerMessage {
	t.Helper()
	cl := saramaClient(t, nil)
	c, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan *sarama.ConsumerMessage, n)
	for _, p := range parts {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("consume partition %d: %v", p, err)
		}
		defer pc.AsyncClose()
		go func() {
			for m := range pc.Messages() {
				out <- m
			}
		}()
	}
	var got []*sarama.ConsumerMessage
	deadline := time.After(15 * time.Second)
	for len(got) < n {
		select {
		case m := <-out:
			got = append(got, m)
		case <-deadline:
			t.Fatalf("consumed %d of %d messages", len(got), n)
		}
	}
	return got
}

// saramaMsgs converts messages for checkMessages.
func saramaMsgs(ms []*sarama.ConsumerMessage) []msg {
	out := make([]msg, len(ms))
	for i, m := range ms {
		o := msg{Key: string(m.Key), Value: string(m.Value), Partition: m.Partition, Offset: m.Offset}
		for _, h := range m.Headers {
			o.Headers = append(o.Headers, [2]string{string(h.Key), string(h.Value)})
		}
		out[i] = o
	}
	return out
}

// saramaSend sends ms with a SyncProducer (idempotent, acks=all).
func saramaSend(t *testing.T, ms []*sarama.ProducerMessage) {
	t.Helper()
	p, err := sarama.NewSyncProducer([]string{broker}, saramaConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SendMessages(ms); err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
}

var saramaCodec = map[string]sarama.CompressionCodec{"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
	"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}

func TestSaramaSyncProducer(t *testing.T) {
	t.Parallel()
	plain := []string{"produce.idempotent", "produce.headers", "consume"}
	forCodecs(t, saramaC, plain, func(t *testing.T, c codec) {
		const n = 200
		topic := saramaTopic(t, 2)
		cfg := saramaConfig()
		cfg.Producer.Compression = saramaCodec[c.name]
		cfg.Producer.Flush.Messages = 50
		cfg.Producer.Flush.Frequency = 20 * time.Millisecond
		p, err := sarama.NewSyncProducer([]string{broker}, cfg)
		if err != nil {
			t.Fatalf("NewSyncProducer: %v", err)
		}
		defer p.Close()
		ms := saramaMessages(topic, n)
		if err := p.SendMessages(ms); err != nil {
			t.Fatalf("SendMessages: %v", err)
		}
		for i, m := range ms {
			if m.Offset < 0 || m.Partition < 0 || m.Partition > 1 {
				t.Fatalf("message %d: partition %d offset %d", i, m.Partition, m.Offset)
			}
		}
		checkMessages(t, sortMessages(saramaMsgs(saramaConsumeAll(t, topic, n))), n)
		franzBatchCheck(t, topic, n, c.id, true)
		if c.name == "none" {
			// acks=1 without idempotence, one message at a time.
			cfg := saramaConfig()
			cfg.Producer.Idempotent = false
			cfg.Producer.RequiredAcks = sarama.WaitForLocal
			p1, err := sarama.NewSyncProducer([]string{broker}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p1.Close()
			part, off, err := p1.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("acks1")})
			if err != nil {
				t.Fatalf("acks=1: %v", err)
			}
			cl := saramaClient(t, nil)
			if end, err := cl.GetOffset(topic, part, sarama.OffsetNewest); err != nil || end != off+1 {
				t.Fatalf("end offset %d (%v) after the acks=1 message at %d", end, err, off)
			}
		}
	})
}

func TestSaramaAsyncProducer(t *testing.T) {
	begin(t, saramaC, "produce.idempotent", "produce.zstd")
	topic := saramaTopic(t, 3)
	cfg := saramaConfig()
	cfg.Producer.Compression = sarama.CompressionZSTD
	cfg.Producer.Return.Errors = true
	cfg.Producer.Flush.Frequency = 10 * time.Millisecond
	p, err := sarama.NewAsyncProducer([]string{broker}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	go func() {
		for _, m := range saramaMessages(topic, n) {
			p.Input() <- m
		}
	}()
	offsets := map[int32][]int64{}
	deadline := time.After(20 * time.Second)
	for got := 0; got < n; got++ {
		select {
		case m := <-p.Successes():
			offsets[m.Partition] = append(offsets[m.Partition], m.Offset)
		case e := <-p.Errors():
			t.Fatalf("async produce: %v", e.Err)
		case <-deadline:
			t.Fatalf("%d of %d acknowledged", got, n)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for part, os := range offsets {
		sort.Slice(os, func(i, j int) bool { return os[i] < os[j] })
		for i, o := range os {
			if o != int64(i) {
				t.Fatalf("partition %d: acknowledged offsets %v are not 0..%d", part, os, len(os)-1)
			}
		}
		total += len(os)
	}
	if total != n || len(offsets) != 3 {
		t.Fatalf("%d acknowledged over %d partitions", total, len(offsets))
	}
	checkMessages(t, sortMessages(saramaMsgs(saramaConsumeAll(t, topic, n))), n)
	franzBatchCheck(t, topic, n, 4, true)
}

func TestSaramaSeekAndTimes(t *testing.T) {
	begin(t, saramaC, "consume.seek", "consume.offsets_for_times")
	topic := saramaTopic(t, 1)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	ms := saramaMessages(topic, 10)
	for i, m := range ms {
		m.Timestamp = base.Add(time.Duration(i) * time.Minute)
	}
	saramaSend(t, ms)
	cl := saramaClient(t, nil)
	off, err := cl.GetOffset(topic, 0, base.Add(150*time.Second).UnixMilli())
	if err != nil || off != 3 {
		t.Fatalf("offset for 2.5 minutes in: %d (%v), want 3", off, err)
	}
	if off, err := cl.GetOffset(topic, 0, time.Now().Add(time.Hour).UnixMilli()); err != nil || off != -1 {
		t.Fatalf("offset for a future time: %d (%v), want -1 (none)", off, err)
	}
	c, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, off)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	select {
	case m := <-pc.Messages():
		if m.Offset != 3 || string(m.Key) != keyOf(3) || !m.Timestamp.Equal(base.Add(3*time.Minute)) {
			t.Fatalf("first message from offset 3: %d %s %v", m.Offset, m.Key, m.Timestamp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message from offset 3")
	}
	// Out of range: sarama refuses to start there.
	if _, err := c.ConsumePartition(topic, 0, 11); !errors.Is(err, sarama.ErrOffsetOutOfRange) {
		t.Fatalf("consume from 11 of 10: %v, want ErrOffsetOutOfRange", err)
	}
}

// saramaMember is one sarama ConsumerGroup member: the partitions it holds
// (ConsumeClaim runs while it owns one) and what it consumed.
type saramaMember struct {
	cg    sarama.ConsumerGroup
	mu    sync.Mutex
	owned map[int32]bool
	got   collector
	stop  func()
}

func (m *saramaMember) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (m *saramaMember) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (m *saramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	m.mu.Lock()
	m.owned[c.Partition()] = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.owned, c.Partition())
		m.mu.Unlock()
	}()
	for cm := range c.Messages() {
		m.got.add(saramaMsgs([]*sarama.ConsumerMessage{cm})...)
		s.MarkMessage(cm, "")
	}
	return nil
}

func (m *saramaMember) count() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.owned), len(m.got.list())
}

func startSaramaMember(t *testing.T, group, topic string, cfg *sarama.Config) *saramaMember {
	t.Helper()
	cg, err := sarama.NewConsumerGroup([]string{broker}, group, cfg)
	if err != nil {
		t.Fatalf("NewConsumerGroup: %v", err)
	}
	m := &saramaMember{cg: cg, owned: map[int32]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, m); err != nil && ctx.Err() == nil {
				if errors.Is(err, sarama.ErrClosedConsumerGroup) {
					return
				}
				t.Logf("sarama Consume: %v", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	go func() {
		for e := range cg.Errors() {
			t.Logf("sarama group error: %v", e)
		}
	}()
	var once sync.Once
	m.stop = func() {
		once.Do(func() { cancel(); _ = cg.Close(); <-done })
	}
	t.Cleanup(m.stop)
	return m
}

func testSaramaGroup(t *testing.T, feature string, strategy sarama.BalanceStrategy, protocol string) {
	t.Parallel()
	compat(t, saramaC, feature)
	adm := saramaAdmin(t)
	topic := saramaTopic(t, 6)
	group := uniq("sg")
	cfg := saramaConfig()
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{strategy}
	var ms []*saramaMember
	var cs []*collector
	for i := 0; i < 3; i++ {
		m := startSaramaMember(t, group, topic, cfg)
		ms, cs = append(ms, m), append(cs, &m.got)
	}
	waitFor(t, 30*time.Second, "3 members owning 2 partitions each", func() bool {
		for _, m := range ms {
			if o, _ := m.count(); o != 2 {
				return false
			}
		}
		return true
	})
	gd, err := adm.DescribeConsumerGroups([]string{group})
	if err != nil || len(gd) != 1 {
		t.Fatal(err)
	}
	if gd[0].State != "Stable" || gd[0].Protocol != protocol || len(gd[0].Members) != 3 {
		t.Fatalf("group: state %s protocol %s members %d", gd[0].State, gd[0].Protocol, len(gd[0].Members))
	}
	saramaSend(t, saramaMessages(topic, 300))
	groupSplit(t, cs, 300, 6)
}

func TestSaramaGroup(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		feature  string
		strategy sarama.BalanceStrategy
	}{
		{"group.eager", sarama.NewBalanceStrategyRange()},
		{"group.eager", sarama.NewBalanceStrategySticky()},
		{"group.cooperative", sarama.NewBalanceStrategyCooperativeSticky()},
	} {
		t.Run(c.strategy.Name(), func(t *testing.T) { testSaramaGroup(t, c.feature, c.strategy, c.strategy.Name()) })
	}
}

// Offsets marked by one member are committed; a new member resumes there,
// and the admin sees the committed offsets.
func TestSaramaCommitResume(t *testing.T) {
	begin(t, saramaC, "group.commit", "group.static")
	adm := saramaAdmin(t)
	topic := saramaTopic(t, 1)
	group := uniq("sg")
	saramaSend(t, saramaMessages(topic, 30))
	cfg := saramaConfig()
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.InstanceId = "sarama-static-" + group
	m := startSaramaMember(t, group, topic, cfg)
	waitFor(t, 20*time.Second, "30 messages", func() bool { _, g := m.count(); return g >= 30 })
	gd, err := adm.DescribeConsumerGroups([]string{group})
	if err != nil || len(gd) != 1 || len(gd[0].Members) != 1 {
		t.Fatalf("describe: %v %+v", err, gd)
	}
	for _, md := range gd[0].Members {
		if md.GroupInstanceId == nil || *md.GroupInstanceId != cfg.Consumer.Group.InstanceId {
			t.Fatalf("member %+v: instance id missing", md)
		}
	}
	m.stop() // commits the marked offsets on close
	fetched, err := adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0}})
	if err != nil {
		t.Fatal(err)
	}
	if b := fetched.GetBlock(topic, 0); b == nil || b.Err != sarama.ErrNoError || b.Offset != 30 {
		t.Fatalf("committed offset %+v, want 30", b)
	}
	saramaSend(t, saramaMessages(topic, 40)[30:])
	m2 := startSaramaMember(t, group, topic, cfg)
	waitFor(t, 20*time.Second, "10 more messages", func() bool { _, g := m2.count(); return g >= 10 })
	first := m2.got.list()[0]
	if first.Offset != 30 || first.Key != keyOf(30) {
		t.Fatalf("resumed at offset %d key %s, want 30", first.Offset, first.Key)
	}
	m2.stop()
	if _, g := m2.count(); g != 10 {
		t.Fatalf("resumed member consumed %d, want 10", g)
	}
}

func TestSaramaAdmin(t *testing.T) {
	t.Parallel()
	adm := saramaAdmin(t)

	t.Run("topics", func(t *testing.T) {
		compat(t, saramaC, "admin.topics")
		topic := uniq("s")
		if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1,
			ConfigEntries: map[string]*string{"cleanup.policy": strp("compact")}}, false); err != nil {
			t.Fatal(err)
		}
		err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false)
		if !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			t.Fatalf("second create: %v, want ErrTopicAlreadyExists", err)
		}
		ts, err := adm.ListTopics()
		if err != nil {
			t.Fatal(err)
		}
		d, ok := ts[topic]
		if !ok || d.NumPartitions != 2 || d.ReplicationFactor != 1 ||
			d.ConfigEntries["cleanup.policy"] == nil || *d.ConfigEntries["cleanup.policy"] != "compact" {
			t.Fatalf("listed %+v (ok %v)", d, ok)
		}
		md, err := adm.DescribeTopics([]string{topic})
		if err != nil || len(md) != 1 || md[0].Err != sarama.ErrNoError || len(md[0].Partitions) != 2 {
			t.Fatalf("describe topics: %v %+v", err, md)
		}
		if err := adm.DeleteTopic(topic); err != nil {
			t.Fatal(err)
		}
		ts, err = adm.ListTopics()
		if _, ok := ts[topic]; err != nil || ok {
			t.Fatalf("after delete: %v, still listed %v", err, ok)
		}
	})

	t.Run("configs", func(t *testing.T) {
		compat(t, saramaC, "admin.configs")
		bc, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.BrokerResource, Name: "0",
			ConfigNames: []string{"log.dirs", "num.partitions"}})
		if err != nil || len(bc) != 2 {
			t.Fatalf("broker configs: %v %+v", err, bc)
		}
		for _, e := range bc {
			if e.Name == "log.dirs" && e.Value != dataDir || e.Name == "num.partitions" && e.Value != "1" {
				t.Fatalf("broker config %s = %s", e.Name, e.Value)
			}
		}
		topic := saramaTopic(t, 1)
		get := func(name string) *sarama.ConfigEntry {
			es, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{name}})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if e.Name == name {
					return &e
				}
			}
			t.Fatalf("config %s not described (%d entries)", name, len(es))
			return nil
		}
		if e := get("retention.ms"); e.Value != "604800000" || !e.Default && e.Source != sarama.SourceDefault && e.Source != sarama.SourceStaticBroker {
			t.Fatalf("retention.ms default: %+v", e)
		}
		if err := adm.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
			"retention.ms": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: strp("1234567")}}, false); err != nil {
			t.Fatal(err)
		}
		if e := get("retention.ms"); e.Value != "1234567" || e.Source != sarama.SourceTopic {
			t.Fatalf("retention.ms after the incremental alter: %+v", e)
		}
		if err := adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"segment.ms": strp("600000")}, false); err != nil {
			t.Fatal(err)
		}
		if e := get("segment.ms"); e.Value != "600000" {
			t.Fatalf("segment.ms after AlterConfig: %+v", e)
		}
		if e := get("retention.ms"); e.Value != "604800000" {
			t.Fatalf("retention.ms after AlterConfig without it: %+v (want the default back)", e)
		}
		err = adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"no.such.config": strp("1")}, false)
		if !errors.Is(err, sarama.ErrInvalidConfig) {
			t.Fatalf("unknown config: %v, want ErrInvalidConfig", err)
		}
	})

	t.Run("partitions", func(t *testing.T) {
		compat(t, saramaC, "admin.partitions")
		topic := saramaTopic(t, 1)
		if err := adm.CreatePartitions(topic, 4, nil, false); err != nil {
			t.Fatal(err)
		}
		md, err := adm.DescribeTopics([]string{topic})
		if err != nil || len(md[0].Partitions) != 4 {
			t.Fatalf("after growing to 4: %v %d partitions", err, len(md[0].Partitions))
		}
		if err := adm.CreatePartitions(topic, 2, nil, false); !errors.Is(err, sarama.ErrInvalidPartitions) {
			t.Fatalf("shrinking: %v, want ErrInvalidPartitions", err)
		}
	})

	t.Run("groups", func(t *testing.T) {
		compat(t, saramaC, "admin.groups")
		compat(t, saramaC, "admin.offsets")
		topic := saramaTopic(t, 1)
		group := uniq("sg")
		cl := saramaClient(t, nil)
		om, err := sarama.NewOffsetManagerFromClient(group, cl)
		if err != nil {
			t.Fatal(err)
		}
		pom, err := om.ManagePartition(topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		pom.MarkOffset(17, "meta")
		om.Commit()
		_ = pom.Close()
		_ = om.Close()
		gs, err := adm.ListConsumerGroups()
		if err != nil {
			t.Fatal(err)
		}
		if pt, ok := gs[group]; !ok || pt != "" && pt != "consumer" {
			t.Fatalf("listed groups: %q (ok %v)", pt, ok)
		}
		// nil: every partition the group has an offset for.
		off, err := adm.ListConsumerGroupOffsets(group, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b := off.GetBlock(topic, 0); b == nil || b.Offset != 17 || b.Metadata != "meta" || len(off.Blocks) != 1 {
			t.Fatalf("committed offsets %+v, want %s/0 at 17 (meta) only", off.Blocks, topic)
		}
		if err := adm.DeleteConsumerGroupOffset(group, topic, 0); err != nil {
			t.Fatal(err)
		}
		off, err = adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0}})
		if err != nil {
			t.Fatal(err)
		}
		if b := off.GetBlock(topic, 0); b == nil || b.Offset != -1 {
			t.Fatalf("offset after its delete: %+v, want -1", b)
		}
		gd, err := adm.DescribeConsumerGroups([]string{group})
		if err != nil || len(gd) != 1 || gd[0].State != "Empty" || len(gd[0].Members) != 0 {
			t.Fatalf("describe: %v %+v", err, gd)
		}
		if err := adm.DeleteConsumerGroup(group); err != nil {
			t.Fatal(err)
		}
		gs, _ = adm.ListConsumerGroups()
		if _, ok := gs[group]; ok {
			t.Fatalf("group %s listed after its delete", group)
		}
		if err := adm.DeleteConsumerGroup(group); !errors.Is(err, sarama.ErrGroupIDNotFound) {
			t.Fatalf("delete again: %v, want ErrGroupIDNotFound", err)
		}
	})

	t.Run("delete_records", func(t *testing.T) {
		compat(t, saramaC, "admin.delete_records")
		topic := saramaTopic(t, 1)
		saramaSend(t, saramaMessages(topic, 10))
		if err := adm.DeleteRecords(topic, map[int32]int64{0: 6}); err != nil {
			t.Fatal(err)
		}
		cl := saramaClient(t, nil)
		if o, err := cl.GetOffset(topic, 0, sarama.OffsetOldest); err != nil || o != 6 {
			t.Fatalf("oldest offset %d (%v) after deleting below 6", o, err)
		}
	})

	t.Run("describe_cluster", func(t *testing.T) {
		compat(t, saramaC, "admin.describe_cluster")
		bs, ctrl, err := adm.DescribeCluster()
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 || bs[0].ID() != 0 || bs[0].Addr() != broker || ctrl != 0 {
			t.Fatalf("brokers %v controller %d", bs, ctrl)
		}
	})

	t.Run("log_dirs", func(t *testing.T) {
		compat(t, saramaC, "admin.log_dirs")
		cl := saramaClient(t, nil)
		b, err := cl.Broker(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Open(cl.Config()); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			t.Fatal(err)
		}
		av, err := b.ApiVersions(&sarama.ApiVersionsRequest{Version: 3, ClientSoftwareName: "sarama", ClientSoftwareVersion: clientVersion(saramaC)})
		if err != nil {
			t.Fatal(err)
		}
		has := false
		for _, k := range av.ApiKeys {
			if k.ApiKey == 35 {
				has = true
			}
		}
		if !has {
			compatSkip(t, "the broker does not advertise DescribeLogDirs (API key 35) in ApiVersions")
		}
		topic := saramaTopic(t, 1)
		saramaSend(t, saramaMessages(topic, 5))
		dirs, err := adm.DescribeLogDirs([]int32{0})
		if err != nil {
			t.Fatal(err)
		}
		if len(dirs[0]) != 1 || dirs[0][0].Path != dataDir || dirs[0][0].ErrorCode != sarama.ErrNoError {
			t.Fatalf("log dirs %+v, want one: %s", dirs[0], dataDir)
		}
		found := false
		for _, tp := range dirs[0][0].Topics {
			if tp.Topic == topic && len(tp.Partitions) == 1 && tp.Partitions[0].Size > 0 {
				found = true
			}
		}
		if !found {
			t.Fatalf("topic %s not in the log dir %+v", topic, dirs[0][0].Topics)
		}
	})
}

// The producer's metadata request asks for auto-creation (sarama's default
// Metadata.AllowAutoTopicCreation): a new topic comes with num.partitions.
func TestSaramaAutoCreate(t *testing.T) {
	begin(t, saramaC, "topic.auto_create")
	topic := uniq("sauto")
	saramaSend(t, saramaMessages(topic, 5))
	parts, err := saramaClient(t, nil).Partitions(topic)
	if err != nil || len(parts) != 1 {
		t.Fatalf("the auto-created topic: %v %v", err, parts)
	}
	checkMessages(t, saramaMsgs(saramaConsumeAll(t, topic, 5)), 5)
}

// Members come and go while messages flow (2 members, a third joins, the
// first leaves): every message is consumed, and the group's commits reach
// the end offsets.
func TestSaramaGroupChurn(t *testing.T) {
	t.Parallel()
	for _, s := range []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange(), sarama.NewBalanceStrategyCooperativeSticky()} {
		t.Run(s.Name(), func(t *testing.T) {
			feature := map[bool]string{true: "group.cooperative", false: "group.eager"}[s.Name() == "cooperative-sticky"]
			begin(t, saramaC, feature, "group.commit")
			topic := saramaTopic(t, 6)
			group := uniq("schurn")
			cfg := saramaConfig()
			cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{s}
			cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
			var ms []*saramaMember
			const n = 900
			all := saramaMessages(topic, n)
			dups := churn(t, n, func() (*collector, func()) {
				m := startSaramaMember(t, group, topic, cfg)
				ms = append(ms, m)
				return &m.got, m.stop
			}, func() {
				waitFor(t, 20*time.Second, "two members with partitions", func() bool {
					o0, _ := ms[0].count()
					o1, _ := ms[1].count()
					return o0 > 0 && o1 > 0
				})
			}, func(from, to int) { saramaSend(t, all[from:to]) })
			t.Logf("%d messages consumed twice (at least once is sarama's contract)", dups)
			adm := saramaAdmin(t)
			waitFor(t, 10*time.Second, "the group's commits at the end offsets", func() bool {
				off, err := adm.ListConsumerGroupOffsets(group, nil)
				if err != nil {
					return false
				}
				sum := int64(0)
				for _, b := range off.Blocks[topic] {
					sum += b.Offset
				}
				return sum == n
			})
		})
	}
}
