package secevent

import (
	"testing"
	"unsafe"
)

// TestRefusalIndex: the switch on the hot path and the list the windows are
// drained from agree.
func TestRefusalIndex(t *testing.T) {
	for i, typ := range refusalTypes {
		if got := refusalIndex(typ); got != i {
			t.Errorf("refusalIndex(%q) = %d, want %d", typ, got, i)
		}
	}
	for _, typ := range []string{TokenIssued, RefreshReused, CodeReused, AdminClientCreated, ""} {
		if got := refusalIndex(typ); got != -1 {
			t.Errorf("refusalIndex(%q) = %d, want -1", typ, got)
		}
	}
}

// TestShardSize: shards are padded to whole cache lines, or the counters
// Emit adds to would pass lines between cores for no reason.
func TestShardSize(t *testing.T) {
	if n := unsafe.Sizeof(shard{}); n%64 != 0 {
		t.Errorf("a shard is %d bytes, not a multiple of 64", n)
	}
}
