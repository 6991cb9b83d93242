// franz-go's admin package (github.com/twmb/franz-go/pkg/kadm) against
// Samsa: topics, configs, partitions, groups, group offsets, list offsets,
// delete records, describe cluster and describe log dirs. Every call's effect
// is read back (metadata, configs, offsets), not just its error.
package gotest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const kadmClient = "franz-go/kadm"

func strp(s string) *string { return &s }

func TestKadmTopics(t *testing.T) {
	begin(t, kadmClient, "admin.topics")
	adm := franzAdmin(t)
	topic := uniq("t")
	ctx := ctxFor(t, 20*time.Second)
	// Validate-only creates nothing.
	if r, err := adm.ValidateCreateTopics(ctx, 3, 1, nil, topic); err != nil || r[topic].Err != nil {
		t.Fatalf("validate create: %v %+v", err, r)
	}
	if td, _ := adm.ListTopics(ctx, topic); td.Has(topic) && td[topic].Err == nil {
		t.Fatalf("validate-only create made topic %s", topic)
	}
	r, err := adm.CreateTopics(ctx, 3, 1, map[string]*string{"retention.ms": strp("3600000")}, topic)
	if err != nil || r[topic].Err != nil {
		t.Fatalf("create: %v %+v", err, r)
	}
	if r[topic].NumPartitions != 3 || r[topic].ReplicationFactor != 1 {
		t.Fatalf("create response: %+v", r[topic])
	}
	// A second create: TOPIC_ALREADY_EXISTS.
	r, err = adm.CreateTopics(ctx, 3, 1, nil, topic)
	if err != nil || !errors.Is(r[topic].Err, kerr.TopicAlreadyExists) {
		t.Fatalf("second create: %v %v, want TOPIC_ALREADY_EXISTS", err, r[topic].Err)
	}
	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil || len(d.Partitions) != 3 || d.IsInternal {
		t.Fatalf("listed topic: %+v (ok %v)", d, ok)
	}
	if d.ID == (kadm.TopicID{}) || d.ID != r[topic].ID && r[topic].ID != (kadm.TopicID{}) {
		t.Fatalf("topic id: listed %v, created %v", d.ID, r[topic].ID)
	}
	for p, pd := range d.Partitions {
		if pd.Leader != 0 || len(pd.Replicas) != 1 || len(pd.ISR) != 1 || pd.Partition != p {
			t.Fatalf("partition %d: %+v", p, pd)
		}
	}
	if _, ok := td["__consumer_offsets"]; ok {
		t.Fatalf("ListTopics (without internal) lists __consumer_offsets")
	}
	del, err := adm.DeleteTopics(ctx, topic)
	if err != nil || del[topic].Err != nil {
		t.Fatalf("delete: %v %+v", err, del)
	}
	// A fresh client: kadm answers ListTopics from the client's metadata
	// cache, which is up to 5 s old (kgo.MetadataMinAge).
	td, err = franzAdmin(t).ListTopics(ctx, topic)
	if err != nil || td.Has(topic) && !errors.Is(td[topic].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("metadata after the delete: %v %+v, want UNKNOWN_TOPIC_OR_PARTITION", err, td[topic])
	}
	del, err = adm.DeleteTopics(ctx, topic)
	if err != nil || !errors.Is(del[topic].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("deleting it again: %v %v, want UNKNOWN_TOPIC_OR_PARTITION", err, del[topic].Err)
	}
}

func TestKadmConfigs(t *testing.T) {
	begin(t, kadmClient, "admin.configs")
	adm := franzAdmin(t)
	topic := franzTopic(t, 1, map[string]*string{"retention.ms": strp("7200000")})
	ctx := ctxFor(t, 20*time.Second)
	value := func(key string) (string, kmsg.ConfigSource) {
		rc, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		c, err := rc.On(topic, nil)
		if err != nil || c.Err != nil {
			t.Fatalf("describe configs: %v %v", err, c.Err)
		}
		for _, e := range c.Configs {
			if e.Key == key {
				if e.Value == nil {
					return "<nil>", e.Source
				}
				return *e.Value, e.Source
			}
		}
		t.Fatalf("config %s missing from %d configs", key, len(c.Configs))
		return "", 0
	}
	if v, src := value("retention.ms"); v != "7200000" || src != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms = %s (source %v), want 7200000 from the topic", v, src)
	}
	if v, src := value("cleanup.policy"); v != "delete" || src == kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("cleanup.policy = %s (source %v), want the default delete", v, src)
	}
	// Incremental alter: set one, delete another.
	ar, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "segment.bytes", Value: strp("1048576")},
		{Op: kadm.DeleteConfig, Name: "retention.ms"},
	}, topic)
	if err != nil || len(ar) != 1 || ar[0].Err != nil {
		t.Fatalf("incremental alter: %v %+v", err, ar)
	}
	if v, _ := value("segment.bytes"); v != "1048576" {
		t.Fatalf("segment.bytes = %s after the alter", v)
	}
	if v, src := value("retention.ms"); v != "604800000" || src == kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms = %s (source %v) after deleting it, want the default 604800000", v, src)
	}
	// An invalid value is refused and changes nothing.
	ar, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "segment.bytes", Value: strp("not-a-number")}}, topic)
	if err != nil || len(ar) != 1 || !errors.Is(ar[0].Err, kerr.InvalidConfig) {
		t.Fatalf("invalid alter: %v %+v, want INVALID_CONFIG", err, ar)
	}
	// Non-incremental (AlterConfigs) replaces the topic's whole set.
	ar, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: strp("65536")}}, topic)
	if err != nil || len(ar) != 1 || ar[0].Err != nil {
		t.Fatalf("alter (state): %v %+v", err, ar)
	}
	if v, _ := value("max.message.bytes"); v != "65536" {
		t.Fatalf("max.message.bytes = %s", v)
	}
	if v, src := value("segment.bytes"); v == "1048576" || src == kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("segment.bytes = %s (source %v): AlterConfigs should have reset it", v, src)
	}
	// Broker configs are described too.
	bc, err := adm.DescribeBrokerConfigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bc.On("0", nil)
	if err != nil || c.Err != nil || len(c.Configs) < 10 {
		t.Fatalf("broker configs: %v %+v", err, c)
	}
	found := false
	for _, e := range c.Configs {
		if e.Key == "log.dirs" && e.Value != nil && *e.Value == dataDir {
			found = true
		}
	}
	if !found {
		t.Fatalf("broker config log.dirs != %s", dataDir)
	}
}

func TestKadmPartitions(t *testing.T) {
	begin(t, kadmClient, "admin.partitions")
	adm := franzAdmin(t)
	topic := franzTopic(t, 1, nil)
	ctx := ctxFor(t, 20*time.Second)
	if r, err := adm.ValidateCreatePartitions(ctx, 2, topic); err != nil || r[topic].Err != nil {
		t.Fatalf("validate: %v %+v", err, r)
	}
	r, err := adm.CreatePartitions(ctx, 2, topic)
	if err != nil || r[topic].Err != nil {
		t.Fatalf("create partitions: %v %+v", err, r)
	}
	td, err := adm.ListTopics(ctx, topic)
	if err != nil || len(td[topic].Partitions) != 3 {
		t.Fatalf("after adding 2: %v %d partitions, want 3", err, len(td[topic].Partitions))
	}
	// Shrinking is refused.
	r, err = adm.UpdatePartitions(ctx, 2, topic)
	if err != nil || !errors.Is(r[topic].Err, kerr.InvalidPartitions) {
		t.Fatalf("shrinking: %v %v, want INVALID_PARTITIONS", err, r[topic].Err)
	}
	// The new partitions take records.
	rec := &kgo.Record{Topic: topic, Partition: 2, Value: []byte("on p2")}
	p2 := franzClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := p2.ProduceSync(ctx, rec).FirstErr(); err != nil || rec.Partition != 2 || rec.Offset != 0 {
		t.Fatalf("produce to the new partition 2: %v at %d/%d", err, rec.Partition, rec.Offset)
	}
}

func TestKadmGroupsAndOffsets(t *testing.T) {
	t.Parallel()
	adm := franzAdmin(t)
	topic := franzTopic(t, 2, nil)
	group := uniq("g")
	franzFill(t, topic, 20)

	t.Run("groups", func(t *testing.T) {
		compat(t, kadmClient, "admin.groups")
		ctx := ctxFor(t, 30*time.Second)
		m := startMember(t, group, topic)
		waitFor(t, 20*time.Second, "the member's assignment", func() bool { return len(m.partitions()) == 2 })
		lg, err := adm.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := lg[group]; !ok || g.ProtocolType != "consumer" || g.State != "Stable" {
			t.Fatalf("listed group: %+v (ok %v)", g, ok)
		}
		lg, err = adm.ListGroups(ctx, "Empty")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := lg[group]; ok {
			t.Fatalf("state filter Empty lists the stable group %s", group)
		}
		dg, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		g := dg[group]
		memberID, _ := m.cl.GroupMetadata()
		if g.Err != nil || g.State != "Stable" || g.Protocol != "cooperative-sticky" || len(g.Members) != 1 ||
			g.Members[0].MemberID != memberID {
			t.Fatalf("described group: %+v", g)
		}
		if a, ok := g.Members[0].Assigned.AsConsumer(); !ok || len(a.Topics) != 1 || a.Topics[0].Topic != topic ||
			len(a.Topics[0].Partitions) != 2 {
			t.Fatalf("described assignment: %+v", g.Members[0].Assigned)
		}
		// Deleting a group with a member: NON_EMPTY_GROUP.
		dr, err := adm.DeleteGroups(ctx, group)
		if err != nil || !errors.Is(dr[group].Err, kerr.NonEmptyGroup) {
			t.Fatalf("delete of a live group: %v %+v, want NON_EMPTY_GROUP", err, dr[group])
		}
		m.stop()
		waitFor(t, 10*time.Second, "the group to be empty", func() bool {
			dg, err := adm.DescribeGroups(ctx, group)
			return err == nil && dg[group].State == "Empty"
		})
		dr, err = adm.DeleteGroups(ctx, group)
		if err != nil || dr[group].Err != nil {
			t.Fatalf("delete: %v %+v", err, dr)
		}
		dg, err = adm.DescribeGroups(ctx, group)
		if err != nil || dg[group].State != "Dead" {
			t.Fatalf("after delete: %v state %q, want Dead", err, dg[group].State)
		}
		dr, err = adm.DeleteGroups(ctx, group)
		if err != nil || !errors.Is(dr[group].Err, kerr.GroupIDNotFound) {
			t.Fatalf("deleting it again: %v %+v, want GROUP_ID_NOT_FOUND", err, dr[group])
		}
	})

	t.Run("offsets", func(t *testing.T) {
		compat(t, kadmClient, "admin.offsets")
		ctx := ctxFor(t, 20*time.Second)
		g2 := uniq("g")
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 5, LeaderEpoch: -1, Metadata: "five"})
		os.Add(kadm.Offset{Topic: topic, Partition: 1, At: 7, LeaderEpoch: -1})
		cr, err := adm.CommitOffsets(ctx, g2, os)
		if err != nil || cr.Error() != nil {
			t.Fatalf("commit: %v %v", err, cr.Error())
		}
		fr, err := adm.FetchOffsets(ctx, g2)
		if err != nil || fr.Error() != nil {
			t.Fatalf("fetch: %v %v", err, fr.Error())
		}
		o0, _ := fr.Lookup(topic, 0)
		o1, _ := fr.Lookup(topic, 1)
		if o0.At != 5 || o0.Metadata != "five" || o1.At != 7 {
			t.Fatalf("fetched offsets %+v %+v, want 5 (five) and 7", o0, o1)
		}
		// The group's lag (DescribeGroups + OffsetFetch + ListOffsets): the
		// end offset minus the commit, never below 0.
		lags, err := adm.Lag(ctx, g2)
		lag := lags[g2]
		if err != nil || lag.Error() != nil || lag.State != "Empty" {
			t.Fatalf("lag: %v %+v", err, lag)
		}
		for p, commit := range map[int32]int64{0: 5, 1: 7} {
			l, ok := lag.Lag.Lookup(topic, p)
			if !ok || l.Err != nil || l.Commit.At != commit || l.Lag != max(l.End.Offset-commit, 0) {
				t.Fatalf("lag of partition %d: %+v", p, l)
			}
		}
		// Start and end offsets.
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		starts, err := adm.ListStartOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
		s0, _ := starts.Lookup(topic, 0)
		if sum != 20 || s0.Offset != 0 {
			t.Fatalf("end offsets sum %d (want 20), start %d", sum, s0.Offset)
		}
		dr, err := adm.DeleteOffsets(ctx, g2, kadm.TopicsSet{topic: {0: {}}})
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := dr.Lookup(topic, 0); !ok || e != nil {
			t.Fatalf("delete offset of partition 0: %v (ok %v)", e, ok)
		}
		fr, err = adm.FetchOffsets(ctx, g2)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := fr.Lookup(topic, 0); ok && o.At >= 0 {
			t.Fatalf("offset of partition 0 still %d after the delete", o.At)
		}
		if o, _ := fr.Lookup(topic, 1); o.At != 7 {
			t.Fatalf("offset of partition 1 %d after deleting partition 0's, want 7", o.At)
		}
	})
}

func TestKadmDeleteRecords(t *testing.T) {
	begin(t, kadmClient, "admin.delete_records")
	adm := franzAdmin(t)
	topic := franzTopic(t, 1, nil)
	ctx := ctxFor(t, 20*time.Second)
	franzFill(t, topic, 10)
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 4})
	dr, err := adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup(topic, 0); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete records: %+v, want low watermark 4", r)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup(topic, 0); o.Offset != 4 {
		t.Fatalf("start offset %d after deleting below 4", o.Offset)
	}
	got := franzConsumeAll(t, topic, 6)
	if got[0].Offset != 4 || string(got[0].Key) != keyOf(4) || len(got) != 6 {
		t.Fatalf("consumed from the start: first offset %d key %s, %d records", got[0].Offset, got[0].Key, len(got))
	}
	// Past the high watermark: OFFSET_OUT_OF_RANGE.
	os = nil
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 11})
	dr, err = adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup(topic, 0); !errors.Is(r.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete past the end: %+v, want OFFSET_OUT_OF_RANGE", r)
	}
}

// TestKadmCluster: the broker list (Metadata and DescribeCluster), the API
// versions a current client needs, and describe log dirs when advertised.
func TestKadmCluster(t *testing.T) {
	t.Parallel()
	adm := franzAdmin(t)
	ctx := ctxFor(t, 20*time.Second)
	av, err := adm.ApiVersions(ctx)
	if err != nil || av[0].Err != nil {
		t.Fatalf("ApiVersions: %v %v", err, av[0].Err)
	}
	v := av[0]
	t.Logf("franz-go guesses the broker is %s", v.VersionGuess())

	t.Run("describe_cluster", func(t *testing.T) {
		compat(t, kadmClient, "admin.describe_cluster")
		for _, k := range []kmsg.Key{kmsg.Produce, kmsg.Fetch, kmsg.Metadata, kmsg.ApiVersions, kmsg.DescribeCluster} {
			if _, ok := v.KeyMaxVersion(int16(k)); !ok {
				t.Fatalf("ApiVersions lacks %s", k.Name())
			}
		}
		m, err := adm.BrokerMetadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Brokers) != 1 || m.Brokers[0].NodeID != 0 || m.Controller != 0 || m.Cluster == "" ||
			m.Brokers[0].Host+":"+strconv.Itoa(int(m.Brokers[0].Port)) != broker {
			t.Fatalf("metadata: cluster %q controller %d brokers %+v, want node 0 at %s", m.Cluster, m.Controller, m.Brokers, broker)
		}
		// DescribeCluster itself (key 60), through the raw request.
		resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, franzClient(t))
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != 0 || resp.ClusterID != m.Cluster || resp.ControllerID != 0 || len(resp.Brokers) != 1 ||
			resp.Brokers[0].NodeID != 0 || resp.Brokers[0].Port != m.Brokers[0].Port {
			t.Fatalf("DescribeCluster: %+v", resp)
		}
	})

	t.Run("log_dirs", func(t *testing.T) {
		compat(t, kadmClient, "admin.log_dirs")
		if _, ok := v.KeyMaxVersion(int16(kmsg.DescribeLogDirs)); !ok {
			compatSkip(t, "the broker does not advertise DescribeLogDirs (API key 35) in ApiVersions")
		}
		topic := franzTopic(t, 2, nil)
		franzFill(t, topic, 10)
		all, err := adm.DescribeAllLogDirs(ctx, kadm.TopicsSet{topic: {0: {}, 1: {}}})
		if err != nil {
			t.Fatal(err)
		}
		dirs := all[0]
		d, ok := dirs[dataDir]
		if len(dirs) != 1 || !ok || d.Err != nil {
			t.Fatalf("log dirs %+v, want exactly %s", dirs, dataDir)
		}
		var total int64
		for p := int32(0); p < 2; p++ {
			dp, ok := d.Topics.Lookup(topic, p)
			if !ok || dp.Size < 0 || dp.IsFuture || dp.OffsetLag != 0 {
				t.Fatalf("partition %d: %+v (ok %v)", p, dp, ok)
			}
			total += dp.Size
		}
		if total < 10*int64(len(valueOf(0))) {
			t.Fatalf("the 10 records take %d bytes on disk?", total)
		}
	})
}
