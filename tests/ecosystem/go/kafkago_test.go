// segmentio/kafka-go 0.4 against Samsa: the Writer (acks=all and acks=1,
// every codec, headers; it has no idempotent producer), the Reader on one
// partition (seek by offset and by time) and in a consumer group (range
// balancer, commits and resume), and the Client's admin calls: CreateTopics,
// DeleteTopics, Metadata, ListOffsets, DescribeConfigs,
// IncrementalAlterConfigs, CreatePartitions, ListGroups, DescribeGroups,
// OffsetFetch, DeleteGroups.
package gotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

const kgoC = "kafka-go"

// kgClient: a Client with its own Transport. kafka-go answers Metadata from
// its transport's cache (refreshed every 6 s, and after that transport's own
// CreateTopics), so a read-back after DeleteTopics or CreatePartitions takes
// a fresh client, and a Writer uses the transport that created its topic
// (kgTransport) or it sees UNKNOWN_TOPIC_OR_PARTITION from the cache.
func kgClient(t *testing.T) *kafka.Client {
	tr := &kafka.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second, Transport: tr}
}

// kgTransport: topic -> the transport that created it.
var kgTransport sync.Map

func kgTopic(t *testing.T, partitions int) string {
	t.Helper()
	topic := uniq("kg")
	cl := kgClient(t)
	kgTransport.Store(topic, cl.Transport)
	r, err := cl.CreateTopics(ctxFor(t, 10*time.Second), &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil || r.Errors[topic] != nil {
		t.Fatalf("create topic %s: %v %v", topic, err, r)
	}
	return topic
}

func kgMessages(n int) []kafka.Message {
	ms := make([]kafka.Message, n)
	for i := range ms {
		ms[i] = kafka.Message{Key: []byte(keyOf(i)), Value: []byte(valueOf(i)),
			Headers: []kafka.Header{{Key: "idx", Value: fmt.Appendf(nil, "%d", i)}, {Key: "empty"}}}
	}
	return ms
}

func kgWriter(topic string, acks kafka.RequiredAcks, codec kafka.Compression) *kafka.Writer {
	tr, _ := kgTransport.Load(topic)
	return &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{}, Transport: tr.(kafka.RoundTripper),
		RequiredAcks: acks, Compression: codec, BatchTimeout: 10 * time.Millisecond, BatchSize: 1000}
}

// kgMsgs converts messages for checkMessages.
func kgMsgs(ms ...kafka.Message) []msg {
	out := make([]msg, len(ms))
	for i, m := range ms {
		o := msg{Key: string(m.Key), Value: string(m.Value), Partition: int32(m.Partition), Offset: m.Offset}
		for _, h := range m.Headers {
			o.Headers = append(o.Headers, [2]string{h.Key, string(h.Value)})
		}
		out[i] = o
	}
	return out
}

// kgReadPartitions reads every partition from the first offset with
// partition readers until n messages came, in partition order.
func kgReadPartitions(t *testing.T, topic string, parts, n int) []kafka.Message {
	t.Helper()
	ctx := ctxFor(t, 15*time.Second)
	var all []kafka.Message
	counts := map[int]int64{}
	ends, err := kgClient(t).ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: func() (rs []kafka.OffsetRequest) {
			for p := 0; p < parts; p++ {
				rs = append(rs, kafka.LastOffsetOf(p))
			}
			return
		}()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, po := range ends.Topics[topic] {
		if po.Error != nil {
			t.Fatalf("list offsets %d: %v", po.Partition, po.Error)
		}
		counts[po.Partition] = po.LastOffset
	}
	for p := 0; p < parts; p++ {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p,
			MaxWait: 200 * time.Millisecond})
		for int64(len(all)) < int64(n) && counts[p] > 0 {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read partition %d: %v", p, err)
			}
			all = append(all, m)
			if m.Offset == counts[p]-1 {
				break
			}
		}
		r.Close()
	}
	return all
}

func TestKafkaGoWriter(t *testing.T) {
	t.Parallel()
	kgCodec := map[string]kafka.Compression{"gzip": kafka.Gzip, "snappy": kafka.Snappy, "lz4": kafka.Lz4, "zstd": kafka.Zstd}
	forCodecs(t, kgoC, []string{"produce.headers", "consume"}, func(t *testing.T, c codec) {
		const n = 200
		topic := kgTopic(t, 2)
		w := kgWriter(topic, kafka.RequireAll, kgCodec[c.name])
		defer w.Close()
		if err := w.WriteMessages(ctxFor(t, 15*time.Second), kgMessages(n)...); err != nil {
			t.Fatalf("write: %v", err)
		}
		checkMessages(t, kgMsgs(kgReadPartitions(t, topic, 2, n)...), n)
		franzBatchCheck(t, topic, n, c.id, false)
		if c.name == "none" {
			w1 := kgWriter(topic, kafka.RequireOne, 0)
			defer w1.Close()
			if err := w1.WriteMessages(ctxFor(t, 10*time.Second), kafka.Message{Key: []byte(keyOf(0)), Value: []byte("acks1")}); err != nil {
				t.Fatalf("acks=1 write: %v", err)
			}
			if w1.Stats().Messages != 1 {
				t.Fatalf("acks=1 writer stats: %+v", w1.Stats())
			}
		}
	})
}

func TestKafkaGoIdempotent(t *testing.T) {
	compat(t, kgoC, "produce.idempotent")
	compatSkip(t, "kafka-go 0.4's Writer has no idempotent producer (no InitProducerId, no sequence numbers)")
}

func TestKafkaGoReaderSeek(t *testing.T) {
	begin(t, kgoC, "consume.seek", "consume.offsets_for_times")
	topic := kgTopic(t, 1)
	ctx := ctxFor(t, 20*time.Second)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	ms := kgMessages(10)
	for i := range ms {
		ms[i].Time = base.Add(time.Duration(i) * time.Minute)
	}
	w := kgWriter(topic, kafka.RequireAll, 0)
	defer w.Close()
	if err := w.WriteMessages(ctx, ms...); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(6); err != nil {
		t.Fatal(err)
	}
	m, err := r.ReadMessage(ctx)
	if err != nil || m.Offset != 6 || string(m.Key) != keyOf(6) || !m.Time.Equal(base.Add(6*time.Minute)) {
		t.Fatalf("after SetOffset(6): %v offset %d key %s time %v", err, m.Offset, m.Key, m.Time)
	}
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		t.Fatal(err)
	}
	if m, err := r.ReadMessage(ctx); err != nil || m.Offset != 0 {
		t.Fatalf("after SetOffset(FirstOffset): %v offset %d", err, m.Offset)
	}
	// By time: 2.5 minutes in is offset 3.
	if err := r.SetOffsetAt(ctx, base.Add(150*time.Second)); err != nil {
		t.Fatal(err)
	}
	if m, err := r.ReadMessage(ctx); err != nil || m.Offset != 3 || string(m.Key) != keyOf(3) {
		t.Fatalf("after SetOffsetAt(2.5 min): %v offset %d key %s", err, m.Offset, m.Key)
	}
	lo, err := kgClient(t).ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0), kafka.TimeOffsetOf(0, base.Add(270*time.Second))}}})
	if err != nil {
		t.Fatal(err)
	}
	po := lo.Topics[topic]
	if len(po) != 1 || po[0].Error != nil || po[0].FirstOffset != 0 || po[0].LastOffset != 10 {
		t.Fatalf("ListOffsets: %+v", po)
	}
	if _, ok := po[0].Offsets[5]; !ok || len(po[0].Offsets) != 1 {
		t.Fatalf("ListOffsets by time 4.5 min: %+v, want offset 5", po[0].Offsets)
	}
}

// kgGroupConfig: a group reader with quick heartbeats, explicit commits.
func kgGroupConfig(group, topic string) kafka.ReaderConfig {
	return kafka.ReaderConfig{Brokers: []string{broker}, GroupID: group, Topic: topic,
		GroupBalancers:    []kafka.GroupBalancer{kafka.RangeGroupBalancer{}},
		HeartbeatInterval: 300 * time.Millisecond, SessionTimeout: 6 * time.Second,
		RebalanceTimeout: 10 * time.Second, JoinGroupBackoff: 200 * time.Millisecond,
		StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond, CommitInterval: 0}
}

func TestKafkaGoGroup(t *testing.T) {
	begin(t, kgoC, "group.eager")
	topic := kgTopic(t, 6)
	group := uniq("kgg")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ms := make([]*collector, 3)
	for i := range ms {
		ms[i] = &collector{}
		r := kafka.NewReader(kgGroupConfig(group, topic))
		wg.Add(1)
		go func(c *collector) {
			defer wg.Done()
			defer r.Close()
			for {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					return
				}
				c.add(kgMsgs(m)...)
			}
		}(ms[i])
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	adm := franzAdmin(t)
	waitFor(t, 30*time.Second, "3 members with 2 partitions each", func() bool {
		dg, err := adm.DescribeGroups(ctxFor(t, 5*time.Second), group)
		g := dg[group]
		if err != nil || g.State != "Stable" || len(g.Members) != 3 || g.Protocol != "range" {
			return false
		}
		for _, mem := range g.Members {
			a, ok := mem.Assigned.AsConsumer()
			if !ok || len(a.Topics) != 1 || len(a.Topics[0].Partitions) != 2 {
				return false
			}
		}
		return true
	})
	w := kgWriter(topic, kafka.RequireAll, kafka.Snappy)
	defer w.Close()
	if err := w.WriteMessages(ctxFor(t, 10*time.Second), kgMessages(300)...); err != nil {
		t.Fatal(err)
	}
	groupSplit(t, ms, 300, 6)
}

func TestKafkaGoCommitResume(t *testing.T) {
	begin(t, kgoC, "group.commit", "admin.offsets")
	topic := kgTopic(t, 1)
	group := uniq("kgg")
	ctx := ctxFor(t, 30*time.Second)
	w := kgWriter(topic, kafka.RequireAll, 0)
	defer w.Close()
	if err := w.WriteMessages(ctx, kgMessages(20)...); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kgGroupConfig(group, topic))
	var last kafka.Message
	for i := 0; i < 12; i++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Offset != int64(i) {
			t.Fatalf("message %d at offset %d", i, m.Offset)
		}
		last = m
	}
	if err := r.CommitMessages(ctx, last); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	of, err := kgClient(t).OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
	if err != nil || of.Error != nil {
		t.Fatalf("offset fetch: %v %v", err, of)
	}
	if ps := of.Topics[topic]; len(ps) != 1 || ps[0].CommittedOffset != 12 || ps[0].Error != nil {
		t.Fatalf("committed %+v, want 12", ps)
	}
	if cs, err := kgClient(t).ConsumerOffsets(ctx, kafka.TopicAndGroup{Topic: topic, GroupId: group}); err != nil || cs[0] != 12 {
		t.Fatalf("ConsumerOffsets: %v %v", cs, err)
	}
	r2 := kafka.NewReader(kgGroupConfig(group, topic))
	m, err := r2.FetchMessage(ctx)
	if err != nil || m.Offset != 12 || string(m.Key) != keyOf(12) {
		t.Fatalf("resumed at %d key %s (%v), want 12", m.Offset, m.Key, err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	// The admin side on the now empty group: a standalone commit
	// (generation -1), then OffsetDelete.
	cl := kgClient(t)
	fetch := func() int64 {
		of, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
		if err != nil || of.Error != nil || len(of.Topics[topic]) != 1 {
			t.Fatalf("offset fetch: %v %+v", err, of)
		}
		return of.Topics[topic][0].CommittedOffset
	}
	oc, err := cl.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{topic: {{Partition: 0, Offset: 3, Metadata: "by hand"}}}})
	if err != nil || len(oc.Topics[topic]) != 1 || oc.Topics[topic][0].Error != nil {
		t.Fatalf("standalone commit: %v %+v", err, oc)
	}
	if o := fetch(); o != 3 {
		t.Fatalf("committed %d after the standalone commit of 3", o)
	}
	od, err := cl.OffsetDelete(ctx, &kafka.OffsetDeleteRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
	if err != nil || od.Error != nil || len(od.Topics[topic]) != 1 || od.Topics[topic][0].Error != nil {
		t.Fatalf("offset delete: %v %+v", err, od)
	}
	if o := fetch(); o != -1 {
		t.Fatalf("committed %d after OffsetDelete, want -1", o)
	}
}

func TestKafkaGoClientAdmin(t *testing.T) {
	t.Parallel()
	cl := kgClient(t)

	t.Run("topics", func(t *testing.T) {
		compat(t, kgoC, "admin.topics")
		ctx := ctxFor(t, 15*time.Second)
		topic := uniq("kg")
		cr, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic,
			NumPartitions: 3, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "3600000"}}}}})
		if err != nil || cr.Errors[topic] != nil {
			t.Fatalf("create: %v %v", err, cr.Errors)
		}
		cr, err = cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic,
			NumPartitions: 3, ReplicationFactor: 1}}})
		if err != nil || !errors.Is(cr.Errors[topic], kafka.TopicAlreadyExists) {
			t.Fatalf("second create: %v %v, want TopicAlreadyExists", err, cr.Errors[topic])
		}
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) != 3 {
			t.Fatalf("metadata: %v %+v", err, md)
		}
		for _, p := range md.Topics[0].Partitions {
			if p.Leader.ID != 0 || len(p.Replicas) != 1 || len(p.Isr) != 1 {
				t.Fatalf("partition %+v", p)
			}
		}
		dr, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
		if err != nil || dr.Errors[topic] != nil {
			t.Fatalf("delete: %v %v", err, dr.Errors)
		}
		md, err = kgClient(t).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil || len(md.Topics) != 1 || !errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
			t.Fatalf("metadata after delete: %v %+v, want UnknownTopicOrPartition", err, md)
		}
	})

	t.Run("describe_cluster", func(t *testing.T) {
		compat(t, kgoC, "admin.describe_cluster")
		md, err := cl.Metadata(ctxFor(t, 10*time.Second), &kafka.MetadataRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if md.ClusterID == "" || md.Controller.ID != 0 || len(md.Brokers) != 1 || md.Brokers[0].ID != 0 ||
			fmt.Sprintf("%s:%d", md.Brokers[0].Host, md.Brokers[0].Port) != broker {
			t.Fatalf("metadata: cluster %q controller %+v brokers %+v", md.ClusterID, md.Controller, md.Brokers)
		}
	})

	t.Run("configs", func(t *testing.T) {
		compat(t, kgoC, "admin.configs")
		ctx := ctxFor(t, 15*time.Second)
		topic := kgTopic(t, 1)
		describe := func() map[string]kafka.DescribeConfigResponseConfigEntry {
			r, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
				{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}}})
			if err != nil || len(r.Resources) != 1 || r.Resources[0].Error != nil {
				t.Fatalf("describe configs: %v %+v", err, r)
			}
			out := map[string]kafka.DescribeConfigResponseConfigEntry{}
			for _, e := range r.Resources[0].ConfigEntries {
				out[e.ConfigName] = e
			}
			return out
		}
		if e := describe()["cleanup.policy"]; e.ConfigValue != "delete" {
			t.Fatalf("cleanup.policy: %+v", e)
		}
		ir, err := cl.IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
			Configs: []kafka.IncrementalAlterConfigsRequestConfig{{Name: "retention.bytes", Value: "1048576",
				ConfigOperation: kafka.ConfigOperationSet}}}}})
		if err != nil || len(ir.Resources) != 1 || ir.Resources[0].Error != nil {
			t.Fatalf("incremental alter: %v %+v", err, ir)
		}
		if e := describe()["retention.bytes"]; e.ConfigValue != "1048576" || e.IsDefault {
			t.Fatalf("retention.bytes after the alter: %+v", e)
		}
	})

	t.Run("partitions", func(t *testing.T) {
		compat(t, kgoC, "admin.partitions")
		ctx := ctxFor(t, 15*time.Second)
		topic := kgTopic(t, 1)
		r, err := cl.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: 3}}})
		if err != nil || r.Errors[topic] != nil {
			t.Fatalf("create partitions: %v %v", err, r)
		}
		md, err := kgClient(t).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil || len(md.Topics[0].Partitions) != 3 {
			t.Fatalf("after growing to 3: %v %+v", err, md)
		}
	})

	t.Run("groups", func(t *testing.T) {
		compat(t, kgoC, "admin.groups")
		ctx := ctxFor(t, 30*time.Second)
		topic := kgTopic(t, 2)
		group := uniq("kgg")
		r := kafka.NewReader(kgGroupConfig(group, topic))
		defer r.Close()
		waitFor(t, 20*time.Second, "the group to be stable", func() bool {
			dg, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
			return err == nil && len(dg.Groups) == 1 && dg.Groups[0].GroupState == "Stable" && len(dg.Groups[0].Members) == 1
		})
		lg, err := cl.ListGroups(ctx, &kafka.ListGroupsRequest{})
		if err != nil || lg.Error != nil {
			t.Fatalf("list groups: %v %v", err, lg)
		}
		found := false
		for _, g := range lg.Groups {
			if g.GroupID == group && g.ProtocolType == "consumer" && g.Coordinator == 0 {
				found = true
			}
		}
		if !found {
			t.Fatalf("group %s not listed in %+v", group, lg.Groups)
		}
		dr, err := cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
		if err != nil || !errors.Is(dr.Errors[group], kafka.NonEmptyGroup) {
			t.Fatalf("delete a live group: %v %v, want NonEmptyGroup", err, dr.Errors)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		dr, err = cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
		if err != nil || dr.Errors[group] != nil {
			t.Fatalf("delete the empty group: %v %v", err, dr.Errors)
		}
	})
}

// The low-level Conn API, as kafka-go's README uses it: topic creation on
// the controller's connection, DialLeader, WriteMessages, ReadOffsets, Seek
// and ReadBatch, ReadOffset by time, DeleteTopics.
func TestKafkaGoConn(t *testing.T) {
	begin(t, kgoC, "produce", "consume", "consume.seek", "admin.topics")
	conn, err := kafka.Dial("tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctrl, err := conn.Controller()
	if err != nil || ctrl.ID != 0 || net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)) != broker {
		t.Fatalf("controller %+v (%v), want node 0 at %s", ctrl, err, broker)
	}
	cc, err := kafka.Dial("tcp", net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	topic := uniq("kgc")
	if err := cc.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: 2, ReplicationFactor: 1}); err != nil {
		t.Fatalf("CreateTopics: %v", err)
	}
	parts, err := conn.ReadPartitions(topic)
	if err != nil || len(parts) != 2 || parts[0].Leader.ID != 0 {
		t.Fatalf("ReadPartitions: %v %+v", err, parts)
	}
	lc, err := kafka.DialLeader(ctxFor(t, 5*time.Second), "tcp", broker, topic, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	_ = lc.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := lc.WriteMessages(kgMessages(20)...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
	if first, last, err := lc.ReadOffsets(); err != nil || first != 0 || last != 20 {
		t.Fatalf("ReadOffsets: %d %d %v, want 0 20", first, last, err)
	}
	if off, err := lc.ReadOffset(time.Now().Add(-time.Minute)); err != nil || off != 0 {
		t.Fatalf("ReadOffset(a minute ago): %d %v, want 0", off, err)
	}
	if _, err := lc.Seek(5, kafka.SeekAbsolute); err != nil {
		t.Fatal(err)
	}
	b := lc.ReadBatch(1, 1<<20)
	var got []kafka.Message
	for len(got) < 15 {
		m, err := b.ReadMessage()
		if err != nil {
			t.Fatalf("ReadBatch after %d messages: %v", len(got), err)
		}
		got = append(got, m)
	}
	_ = b.Close()
	ms := kgMsgs(got...)
	for i, m := range ms {
		want := kgMsgs(kgMessages(20)[5+i])[0]
		if m.Offset != int64(5+i) || m.Key != want.Key || m.Value != want.Value || len(m.Headers) != 2 || m.Partition != 1 {
			t.Fatalf("message %d after Seek(5): %+v", i, m)
		}
	}
	if err := conn.DeleteTopics(topic); err != nil {
		t.Fatalf("DeleteTopics: %v", err)
	}
	// Not ReadPartitions: it asks for auto-creation (Metadata v6), which
	// would make the topic again here, as Kafka would.
	md, err := kgClient(t).Metadata(ctxFor(t, 5*time.Second), &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || !errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
		t.Fatalf("metadata after the delete: %v %+v, want UnknownTopicOrPartition", err, md)
	}
}

// A Writer that may create its topic, as with Kafka's
// auto.create.topics.enable=true (the suite's broker has it on).
func TestKafkaGoAutoCreate(t *testing.T) {
	begin(t, kgoC, "topic.auto_create")
	topic := uniq("kga")
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, AllowAutoTopicCreation: true,
		RequiredAcks: kafka.RequireAll, BatchTimeout: 10 * time.Millisecond}
	defer w.Close()
	ctx := ctxFor(t, 20*time.Second)
	if err := w.WriteMessages(ctx, kgMessages(5)...); err != nil {
		t.Fatalf("write to a new topic: %v", err)
	}
	md, err := kgClient(t).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) != 1 {
		t.Fatalf("the auto-created topic: %v %+v (want 1 partition, num.partitions)", err, md)
	}
	checkMessages(t, kgMsgs(kgReadPartitions(t, topic, 1, 5)...), 5)
}
