// franz-go transactions against Samsa (issue 16): a transactional client
// (kgo.TransactionalID) commits, aborts and commits again on one partition;
// a read_committed consumer gets exactly the committed records (in order,
// skipping the markers' offsets), a read_uncommitted one the aborted ones too.
package gotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFranzTransactions(t *testing.T) {
	compat(t, franz, "produce.transactions")
	topic := franzTopic(t, 1, nil)
	cl := franzClient(t, kgo.TransactionalID(uniq("tid")), kgo.DefaultProduceTopic(topic))
	batches := []struct {
		vals   []string
		commit bool
	}{{[]string{"c0", "c1", "c2", "c3"}, true}, {[]string{"a0", "a1", "a2"}, false}, {[]string{"c4"}, true}}
	for _, b := range batches {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatalf("BeginTransaction: %v", err)
		}
		var rs []*kgo.Record
		for _, v := range b.vals {
			rs = append(rs, &kgo.Record{Value: []byte(v), Partition: 0})
		}
		if err := cl.ProduceSync(ctxFor(t, 15*time.Second), rs...).FirstErr(); err != nil {
			t.Fatalf("produce %v: %v", b.vals, err)
		}
		end := kgo.TryAbort
		if b.commit {
			end = kgo.TryCommit
		}
		if err := cl.EndTransaction(ctxFor(t, 15*time.Second), end); err != nil {
			t.Fatalf("EndTransaction(commit=%v): %v", b.commit, err)
		}
	}
	values := func(rs []*kgo.Record) (vs []string, offs []int64) {
		for _, r := range rs {
			vs, offs = append(vs, string(r.Value)), append(offs, r.Offset)
		}
		return
	}
	// read_committed: the markers are written after EndTransaction returns,
	// so this polls until the last committed record is readable
	rc, rcOff := values(franzConsumeAll(t, topic, 5, kgo.FetchIsolationLevel(kgo.ReadCommitted())))
	ru, ruOff := values(franzConsumeAll(t, topic, 8, kgo.FetchIsolationLevel(kgo.ReadUncommitted())))
	if got, want := fmt.Sprint(rc), "[c0 c1 c2 c3 c4]"; got != want {
		t.Errorf("read_committed: %s, want %s (offsets %v)", got, want, rcOff)
	}
	if got, want := fmt.Sprint(ru), "[c0 c1 c2 c3 a0 a1 a2 c4]"; got != want {
		t.Errorf("read_uncommitted: %s, want %s (offsets %v)", got, want, ruOff)
	}
	// c0-c3 at 0-3, commit marker 4, a0-a2 at 5-7, abort marker 8, c4 at 9
	if got, want := fmt.Sprint(ruOff), "[0 1 2 3 5 6 7 9]"; got != want {
		t.Errorf("read_uncommitted offsets %s, want %s", got, want)
	}
}
