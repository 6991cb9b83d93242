// Edge cases the Go clients reach in ordinary use, each compared with what
// Apache Kafka answers: a record larger than the fetch limits (KIP-74: the
// first batch comes anyway), LogAppendTime topics (produce response and
// batch attributes), a consumer whose offset
// fell below the log start (OFFSET_OUT_OF_RANGE, then the reset policy), the
// special ListOffsets timestamps (max timestamp, local log start, latest
// tiered), and CreateTopics' error codes for bad input.
package gotest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFranzEdges(t *testing.T) {
	t.Parallel()
	adm := franzAdmin(t)

	t.Run("large_record", func(t *testing.T) {
		begin(t, franz, "consume")
		topic := franzTopic(t, 1, nil)
		big := strings.Repeat("0123456789abcdef", 600<<10/16) // 600 KiB, under message.max.bytes
		p := franzClient(t, kgo.ProducerBatchCompression(kgo.NoCompression()))
		rs := []*kgo.Record{{Topic: topic, Value: []byte("small")}, {Topic: topic, Value: []byte(big)}}
		if err := p.ProduceSync(ctxFor(t, 10*time.Second), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		// Limits far below the record: the broker still returns the batch.
		c := franzClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(1)}}),
			kgo.FetchMaxBytes(1024), kgo.FetchMaxPartitionBytes(1024))
		got := franzPoll(t, c, 1, 10*time.Second)
		if got[0].Offset != 1 || string(got[0].Value) != big {
			t.Fatalf("the large record: offset %d, %d bytes", got[0].Offset, len(got[0].Value))
		}
	})

	t.Run("out_of_range", func(t *testing.T) {
		begin(t, franz, "consume.seek")
		topic := franzTopic(t, 1, nil)
		franzFill(t, topic, 10)
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 6})
		if _, err := adm.DeleteRecords(ctxFor(t, 5*time.Second), os); err != nil {
			t.Fatal(err)
		}
		// Below the log start: OFFSET_OUT_OF_RANGE, then the reset offset
		// (the start, here) applies.
		c := franzClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(2)}}),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		got := franzPoll(t, c, 4, 10*time.Second)
		if got[0].Offset != 6 || string(got[0].Key) != keyOf(6) {
			t.Fatalf("after the reset: first offset %d key %s, want 6", got[0].Offset, got[0].Key)
		}
		// Past the end with a reset to the end: it waits at 10 for new data.
		c2 := franzClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(50)}}),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		ctx := ctxFor(t, 10*time.Second)
		go func() {
			time.Sleep(300 * time.Millisecond)
			_ = franzClient(t).ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("after"), Value: []byte("x")})
		}()
		got = franzPoll(t, c2, 1, 10*time.Second)
		if got[0].Offset != 10 || string(got[0].Key) != "after" {
			t.Fatalf("past the end, reset to the end: offset %d key %s, want 10", got[0].Offset, got[0].Key)
		}
	})

	t.Run("special_list_offsets", func(t *testing.T) {
		begin(t, kadmClient, "consume.offsets_for_times")
		topic := franzTopic(t, 1, nil)
		base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		var rs []*kgo.Record
		for i, sec := range []int{30, 90, 10, 60} { // the newest timestamp is record 1
			rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(keyOf(i)), Timestamp: base.Add(time.Duration(sec) * time.Second)})
		}
		if err := franzClient(t).ProduceSync(ctxFor(t, 10*time.Second), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 1})
		if _, err := adm.DeleteRecords(ctxFor(t, 5*time.Second), os); err != nil {
			t.Fatal(err)
		}
		ctx := ctxFor(t, 10*time.Second)
		check := func(what string, lo kadm.ListedOffsets, err error, offset, ts int64) {
			t.Helper()
			o, ok := lo.Lookup(topic, 0)
			if err != nil || !ok || o.Err != nil || o.Offset != offset || o.Timestamp != ts {
				t.Fatalf("%s: %v %+v (ok %v), want offset %d timestamp %d", what, err, o, ok, offset, ts)
			}
		}
		lo, err := adm.ListMaxTimestampOffsets(ctx, topic)
		check("max timestamp", lo, err, 1, base.Add(90*time.Second).UnixMilli())
		lo, err = adm.ListLocalLogStartOffsets(ctx, topic)
		check("local log start (-4)", lo, err, 1, -1)
		// No tiered storage: Kafka answers -1 for the latest tiered offset.
		lo, err = adm.ListLatestRemoteOffsets(ctx, topic)
		check("latest tiered (-5)", lo, err, -1, -1)
	})

	t.Run("create_topic_errors", func(t *testing.T) {
		begin(t, kadmClient, "admin.topics")
		ctx := ctxFor(t, 10*time.Second)
		for _, c := range []struct {
			name       string
			partitions int32
			rf         int16
			configs    map[string]*string
			want       error
		}{
			{uniq("rf"), 1, 3, nil, kerr.InvalidReplicationFactor},
			{uniq("p0"), 0, 1, nil, kerr.InvalidPartitions},
			{uniq("cfg"), 1, 1, map[string]*string{"cleanup.policy": strp("sometimes")}, kerr.InvalidConfig},
			{uniq("key"), 1, 1, map[string]*string{"no.such.key": strp("1")}, kerr.InvalidConfig},
			{"bad/name", 1, 1, nil, kerr.InvalidTopicException},
			{strings.Repeat("x", 250), 1, 1, nil, kerr.InvalidTopicException},
		} {
			r, err := adm.CreateTopic(ctx, c.partitions, c.rf, c.configs, c.name)
			if err != nil && !errors.Is(err, c.want) || !errors.Is(r.Err, c.want) {
				t.Errorf("create %.40s (p %d, rf %d, %v): %v / %v, want %v", c.name, c.partitions, c.rf, c.configs, err, r.Err, c.want)
			}
		}
	})
}

// sarama's consumer asks for Consumer.Fetch.Default bytes per partition; a
// larger first batch still comes (Fetch v3+), so it needs no retry.
func TestSaramaLargeMessage(t *testing.T) {
	begin(t, saramaC, "consume")
	topic := saramaTopic(t, 1)
	big := strings.Repeat("z", 300<<10)
	ms := saramaMessages(topic, 2)
	ms[1].Value = sarama.StringEncoder(big)
	saramaSend(t, ms)
	cfg := saramaConfig()
	cfg.Consumer.Fetch.Default = 1024
	cfg.Consumer.Fetch.Max = 2048
	c, err := sarama.NewConsumer([]string{broker}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	select {
	case m := <-pc.Messages():
		if m.Offset != 1 || string(m.Value) != big {
			t.Fatalf("offset %d, %d bytes", m.Offset, len(m.Value))
		}
	case err := <-pc.Errors():
		t.Fatalf("consume: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the 300 KiB message did not come with a 2 KiB fetch limit")
	}
}

// A LogAppendTime topic: the broker stamps the batch with its clock, says so
// in the produce response (sarama puts it in the message's Timestamp; kgo
// does not read it) and in the batch's attributes (franz-go reads them).
func TestLogAppendTime(t *testing.T) {
	begin(t, saramaC, "produce")
	compat(t, franz, "consume")
	topic := franzTopic(t, 1, map[string]*string{"message.timestamp.type": strp("LogAppendTime")})
	before := time.Now().Add(-time.Second)
	ms := saramaMessages(topic, 3)
	for _, m := range ms {
		m.Timestamp = time.Now().Add(-48 * time.Hour)
	}
	saramaSend(t, ms)
	for _, m := range ms {
		if m.Timestamp.Before(before) || m.Timestamp.After(time.Now().Add(time.Second)) {
			t.Fatalf("produce response timestamp %v, want the broker's append time (about now)", m.Timestamp)
		}
	}
	for _, r := range franzConsumeAll(t, topic, 3) {
		if r.Attrs.TimestampType() != 1 || r.Timestamp.Before(before) || r.Timestamp.After(time.Now().Add(time.Second)) {
			t.Fatalf("fetched: timestamp type %d at %v, want LogAppendTime (1) about now", r.Attrs.TimestampType(), r.Timestamp)
		}
	}
}
