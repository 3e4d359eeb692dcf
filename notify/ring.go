package notify

// The ring of recent events is bounded twice: by count (Config.RingSize)
// and by memory (Config.RingBytes). Events that fall out of it are
// replayed from the database, so the bounds cost queries, never events.

// ringOverhead and ringDataFactor make ringCost: an event fully encoded
// for every transport (its compacted data, the SSE, long-poll and
// WebSocket frames and the WebSocket prepared frame) was measured at 5.4
// to 6.6 times its data plus about 600 bytes (TestRingCost_CoversEncodedEvent
// keeps the bound true); the cost rounds that up, so the budget bounds what
// the ring can hold whatever the transports have encoded.
const (
	ringOverhead   = 1 << 10
	ringDataFactor = 8
)

// ringCost is what one event with dataLen bytes of data counts against
// Config.RingBytes.
func ringCost(dataLen int) int64 { return ringOverhead + ringDataFactor*int64(dataLen) }

// ringPushLocked appends a new event (not yet seen by any connection) to
// the ring. Called with h.mu held; ringTrimLocked enforces the bounds.
func (h *Hub) ringPushLocked(e *evt) {
	e.cost = ringCost(len(e.data))
	h.ring = append(h.ring, e)
	h.ringBytes += e.cost
}

// ringTrimLocked drops the oldest events while the ring holds more than
// RingSize events or RingBytes. Called with h.mu held.
func (h *Hub) ringTrimLocked() {
	i := 0
	for i < len(h.ring) && (len(h.ring)-i > h.cfg.RingSize || h.ringBytes > h.cfg.RingBytes) {
		h.ringBytes -= h.ring[i].cost
		i++
	}
	h.ringDropLocked(i)
}

// ringDropLocked drops the n oldest events of the ring; resumes from below
// the new floor are replayed from the database. Called with h.mu held.
func (h *Hub) ringDropLocked(n int) {
	if n == 0 {
		return
	}
	h.ringFloor = h.ring[n-1].id
	// A copy, not a reslice: the dropped events' memory is released.
	h.ring = append(h.ring[:0:0], h.ring[n:]...)
}
