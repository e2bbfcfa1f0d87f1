package measure

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// HyperLogLog with 2^12 registers: a standard error of about 1.6 %, and at
// most 4 KiB per sketch.
const (
	precision = 12
	registers = 1 << precision
	maxRank   = 64 - precision + 1 // a register holds 0..maxRank
)

// Serialized form: a 3-byte header ('H', precision, encoding) followed by
// either the 4096 registers, one byte each (dense), or the set registers as
// 3-byte big-endian entries index<<6|rank in strictly increasing index order
// (sparse). A sketch is encoded sparse when that is shorter; an empty sketch
// is nil.
const (
	magic        = 'H'
	encSparse    = 0
	encDense     = 1
	headerLen    = 3
	entryLen     = 3
	sparseMax    = (registers - 1) / entryLen // most entries a canonical sparse form holds
	memSparseMax = registers / 4              // in memory, sparse entries take 4 bytes
)

// ErrMalformedSketch reports bytes that are not a serialized sketch.
var ErrMalformedSketch = errors.New("measure: malformed sketch")

// register maps a 64-bit hash to a register index and rank (the position of
// the first 1 bit after the index bits). The guard bit caps the rank.
func register(x uint64) (idx uint16, rank uint8) {
	idx = uint16(x >> (64 - precision))
	w := x<<precision | 1<<(precision-1)
	return idx, uint8(bits.LeadingZeros64(w) + 1)
}

// sketch is the in-memory HyperLogLog of one cell. It starts sparse, since
// most cells (a product, a path) see few visitors in a flush interval, and
// turns dense once that is no larger.
type sketch struct {
	sparse []uint32 // idx<<8 | rank, sorted by idx
	dense  *[registers]uint8
}

func (s *sketch) add(idx uint16, rank uint8) {
	if s.dense != nil {
		if rank > s.dense[idx] {
			s.dense[idx] = rank
		}
		return
	}
	lo, hi := 0, len(s.sparse)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if uint16(s.sparse[mid]>>8) < idx {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	e := uint32(idx)<<8 | uint32(rank)
	if lo < len(s.sparse) && uint16(s.sparse[lo]>>8) == idx {
		if rank > uint8(s.sparse[lo]) {
			s.sparse[lo] = e
		}
		return
	}
	if len(s.sparse) == memSparseMax {
		s.dense = new([registers]uint8)
		for _, e := range s.sparse {
			s.dense[e>>8] = uint8(e)
		}
		s.sparse = nil
		s.dense[idx] = rank
		return
	}
	s.sparse = append(s.sparse, 0)
	copy(s.sparse[lo+1:], s.sparse[lo:])
	s.sparse[lo] = e
}

// bytes returns the canonical serialized form, nil when empty.
func (s *sketch) bytes() []byte {
	if s.dense != nil {
		return encode(s.dense)
	}
	if len(s.sparse) == 0 {
		return nil
	}
	b := make([]byte, 0, headerLen+entryLen*len(s.sparse))
	b = append(b, magic, precision, encSparse)
	for _, e := range s.sparse {
		b = appendEntry(b, uint16(e>>8), uint8(e))
	}
	return b
}

func appendEntry(b []byte, idx uint16, rank uint8) []byte {
	v := uint32(idx)<<6 | uint32(rank)
	return append(b, byte(v>>16), byte(v>>8), byte(v))
}

// encode returns the canonical serialized form of r, nil when empty.
func encode(r *[registers]uint8) []byte {
	n := 0
	for _, v := range r {
		if v != 0 {
			n++
		}
	}
	switch {
	case n == 0:
		return nil
	case n > sparseMax:
		b := make([]byte, headerLen+registers)
		b[0], b[1], b[2] = magic, precision, encDense
		copy(b[headerLen:], r[:])
		return b
	}
	b := make([]byte, 0, headerLen+entryLen*n)
	b = append(b, magic, precision, encSparse)
	for i, v := range r {
		if v != 0 {
			b = appendEntry(b, uint16(i), v)
		}
	}
	return b
}

// decodeMax validates b and raises the registers of r to b's. Nil or empty
// b is the empty sketch. On error r may be partly updated.
func decodeMax(r *[registers]uint8, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) < headerLen || b[0] != magic || b[1] != precision {
		return fmt.Errorf("%w: bad header", ErrMalformedSketch)
	}
	body := b[headerLen:]
	switch b[2] {
	case encDense:
		if len(body) != registers {
			return fmt.Errorf("%w: dense sketch of %d bytes", ErrMalformedSketch, len(body))
		}
		for _, v := range body {
			if v > maxRank {
				return fmt.Errorf("%w: rank %d", ErrMalformedSketch, v)
			}
		}
		for i, v := range body {
			r[i] = max(r[i], v)
		}
		return nil
	case encSparse:
		if len(body)%entryLen != 0 || len(body)/entryLen > registers {
			return fmt.Errorf("%w: sparse sketch of %d bytes", ErrMalformedSketch, len(body))
		}
		next := 0 // lowest index the next entry may have
		for i := 0; i < len(body); i += entryLen {
			v := uint32(body[i])<<16 | uint32(body[i+1])<<8 | uint32(body[i+2])
			idx, rank := int(v>>6), uint8(v&0x3f)
			if idx >= registers || idx < next {
				return fmt.Errorf("%w: sparse index %d out of order", ErrMalformedSketch, idx)
			}
			if rank == 0 || rank > maxRank {
				return fmt.Errorf("%w: rank %d", ErrMalformedSketch, rank)
			}
			r[idx] = max(r[idx], rank)
			next = idx + 1
		}
		return nil
	}
	return fmt.Errorf("%w: unknown encoding %d", ErrMalformedSketch, b[2])
}

// MergeSketch returns the union of two serialized sketches (register-wise
// maximum) in canonical form. Either may be nil; the result is nil when both
// are empty. Only sketches of the same UTC day estimate distinct visitors:
// days have different salts, so a merge across days counts a returning
// visitor once per day.
func MergeSketch(a, b []byte) ([]byte, error) {
	var r [registers]uint8
	if err := decodeMax(&r, a); err != nil {
		return nil, err
	}
	if err := decodeMax(&r, b); err != nil {
		return nil, err
	}
	return encode(&r), nil
}

// Estimate returns the estimated number of distinct visitors in a serialized
// sketch; nil is 0.
//
// It uses Ertl's improved raw estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", 2017) rather than the classic
// estimator: it needs no switch to linear counting (it reduces to it when few
// registers are set) and has none of the classic estimator's bias between
// 2.5 and 5 times the register count, which for 4096 registers falls on the
// very common 10k–20k visitors a day.
func Estimate(sketch []byte) (uint64, error) {
	var r [registers]uint8
	if err := decodeMax(&r, sketch); err != nil {
		return 0, err
	}
	var c [maxRank + 1]int
	for _, v := range r {
		c[v]++
	}
	if c[0] == registers {
		return 0, nil
	}
	const m = float64(registers)
	z := m * tau(1-float64(c[maxRank])/m)
	for k := maxRank - 1; k >= 1; k-- {
		z = 0.5 * (z + float64(c[k]))
	}
	z += m * sigma(float64(c[0])/m)
	e := math.Round(m * m / (2 * math.Ln2 * z))
	if e >= 0x1p64 { // only forged sketches get here
		return math.MaxUint64, nil
	}
	return uint64(e), nil
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}
