package detectors

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// This file computes integrated ownership on the entity graph: the Leontief inverse (I − A)⁻¹
// of each core component of cross-holding enterprises, dense or walked row by row, and the
// chains of holdings the evidence lists.

// computeCore marks the enterprises that both hold and are held by enterprises, and splits
// them into connected components. Only they can be intermediate links of a chain.
func (g *entityGraph) computeCore() {
	n := len(g.ents)
	g.comp = make([]int32, n)
	g.local = make([]int32, n)
	core := func(i int) bool { return len(g.holdings[i]) > 0 && g.hasEnterpriseHolder(int32(i)) }
	parent := make([]int32, n)
	for i := range parent {
		g.comp[i] = -1
		parent[i] = -1
		if core(i) {
			parent[i] = int32(i)
		}
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for i := 0; i < n; i++ {
		if parent[i] < 0 {
			continue
		}
		for _, h := range g.holdings[i] {
			if j := int32(h.node); parent[j] >= 0 {
				if a, b := find(int32(i)), find(j); a != b {
					parent[a] = b
				}
			}
		}
	}
	ids := map[int32]int32{}
	for i := 0; i < n; i++ {
		if parent[i] < 0 {
			continue
		}
		r := find(int32(i))
		c, ok := ids[r]
		if !ok {
			c = int32(len(g.members))
			ids[r] = c
			g.members = append(g.members, nil)
		}
		g.comp[i] = c
		g.local[i] = int32(len(g.members[c]))
		g.members[c] = append(g.members[c], int32(i))
	}
}

// leontief holds (I − A)⁻¹ of one core component: dense for small components, rows computed
// on demand for large ones.
type leontief struct {
	dense *mat.Dense
	rows  map[int32]sparseRow // local row → its non-zero entries

	// Scratch for the rows' walks, one slot per member.
	acc, cur, next         []float64
	touched, front, fringe []int32
}

// sparseRow is a row's non-zero entries, by ascending local column.
type sparseRow struct {
	cols []int32
	vals []float64
}

func (r sparseRow) at(col int32) float64 {
	i := sort.Search(len(r.cols), func(i int) bool { return r.cols[i] >= col })
	if i < len(r.cols) && r.cols[i] == col {
		return r.vals[i]
	}
	return 0
}

// IntegratedOwnership returns the integrated (direct plus indirect) ownership matrix
// (I − A)⁻¹ − I of the share matrix a, where a[i][j] is the share (0..1) of j held by i: the
// sum over every chain of holdings from i to j of the product of its shares, cross-holdings
// included. When I − A cannot be inverted (a closed ring of 100 % holdings) it falls back to
// the power series A + A² + … truncated after maxSeriesTerms, each entry capped at 1.
func IntegratedOwnership(a mat.Matrix) *mat.Dense {
	n, _ := a.Dims()
	m := leontiefInverse(a)
	out := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := m.At(i, j)
			if i == j {
				v--
			}
			out.Set(i, j, graphClamp01(v))
		}
	}
	return out
}

const (
	graphMaxSeriesTerms = 256
	graphSeriesEpsilon  = 1e-12
)

// leontiefInverse returns (I − A)⁻¹, through an LU inverse when I − A is well conditioned and
// by the truncated series I + A + A² + … otherwise.
func leontiefInverse(a mat.Matrix) *mat.Dense {
	n, _ := a.Dims()
	ia := mat.NewDense(n, n, nil)
	ia.Sub(graphEye(n), a)
	var inv mat.Dense
	if err := inv.Inverse(ia); err == nil && graphFiniteNonNegative(&inv) {
		return &inv
	}
	sum := graphEye(n)
	term := graphEye(n)
	var next mat.Dense
	for k := 0; k < graphMaxSeriesTerms; k++ {
		next.Mul(term, a)
		term.Copy(&next)
		sum.Add(sum, term)
		if mat.Norm(term, math.Inf(1)) < graphSeriesEpsilon {
			break
		}
	}
	return sum
}

func graphEye(n int) *mat.Dense {
	m := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		m.Set(i, i, 1)
	}
	return m
}

func graphFiniteNonNegative(m *mat.Dense) bool {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			v := m.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) || v < -1e-9 {
				return false
			}
		}
	}
	return true
}

func graphClamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// inverse returns the Leontief inverse of core component c, building it on first use.
func (g *entityGraph) inverse(c int32) *leontief {
	if l, ok := g.inverses[c]; ok {
		return l
	}
	l := &leontief{}
	members := g.members[c]
	if n := len(members); n <= g.denseLimit {
		a := mat.NewDense(n, n, nil)
		for _, i := range members {
			for _, h := range g.holdings[i] {
				j := int32(h.node)
				if g.comp[j] == c {
					li, lj := int(g.local[i]), int(g.local[j])
					a.Set(li, lj, a.At(li, lj)+g.share(h, j))
				}
			}
		}
		l.dense = leontiefInverse(a)
	} else {
		l.rows = map[int32]sparseRow{}
		l.acc, l.cur, l.next = make([]float64, n), make([]float64, n), make([]float64, n)
	}
	g.inverses[c] = l
	return l
}

// at returns (I − A)⁻¹[k][m] of component c for enterprises k and m in it.
func (g *entityGraph) at(c int32, l *leontief, k, m int32) float64 {
	if l.dense != nil {
		return l.dense.At(int(g.local[k]), int(g.local[m]))
	}
	row, ok := l.rows[g.local[k]]
	if !ok {
		row = g.seriesRow(c, l, k)
		l.rows[g.local[k]] = row
	}
	return row.at(g.local[m])
}

// graphWalkFloor is the smallest share a walk still carries on: a chain worth less than
// 10⁻¹² of an enterprise changes no decision.
const graphWalkFloor = 1e-12

// seriesRow walks the power series e_k (I + A + A² + …) of a large component and keeps its
// non-zero entries: memory grows with what k reaches, never with the component squared.
func (g *entityGraph) seriesRow(c int32, l *leontief, k int32) sparseRow {
	members := g.members[c]
	lk := g.local[k]
	l.acc[lk], l.cur[lk] = 1, 1
	l.touched = append(l.touched[:0], lk)
	l.front = append(l.front[:0], lk)
	for it := 0; it < graphMaxSeriesTerms && len(l.front) > 0; it++ {
		l.fringe = l.fringe[:0]
		mass := 0.0
		for _, x := range l.front {
			v := l.cur[x]
			l.cur[x] = 0
			for _, h := range g.holdings[members[x]] {
				j := int32(h.node)
				if g.comp[j] != c {
					continue
				}
				w := v * g.share(h, j)
				if w < graphWalkFloor {
					continue
				}
				lj := g.local[j]
				if l.next[lj] == 0 {
					l.fringe = append(l.fringe, lj)
				}
				l.next[lj] += w
				mass += w
			}
		}
		for _, y := range l.fringe {
			if l.acc[y] == 0 {
				l.touched = append(l.touched, y)
			}
			l.acc[y] += l.next[y]
		}
		l.cur, l.next = l.next, l.cur
		l.front, l.fringe = l.fringe, l.front
		if mass < graphSeriesEpsilon {
			break
		}
	}
	for _, x := range l.front {
		l.cur[x] = 0
	}
	sort.Slice(l.touched, func(a, b int) bool { return l.touched[a] < l.touched[b] })
	row := sparseRow{cols: make([]int32, len(l.touched)), vals: make([]float64, len(l.touched))}
	for i, y := range l.touched {
		row.cols[i], row.vals[i] = y, l.acc[y]
		l.acc[y] = 0
	}
	return row
}

// integrated returns the integrated ownership (0..1) enterprise i has in enterprise j: the
// entry [i][j] of (I − A)⁻¹ − I. Every chain i → k … l → j runs through core enterprises only
// (k and l hold and are held), so it is A[i][j] + Σ A[i][k] · M[k][l] · A[l][j] over k, l in one
// core component, M that component's Leontief inverse.
func (g *entityGraph) integrated(i, j int32) float64 {
	v := 0.0
	for _, h := range g.holders[j] {
		if h.node == nodeRef(i) {
			v += g.share(h, j)
		}
	}
	for _, ik := range g.holdings[i] {
		k := int32(ik.node)
		c := g.comp[k]
		if c < 0 {
			continue
		}
		aik := g.share(ik, k)
		var l *leontief
		for _, lj := range g.holders[j] {
			if lj.node.isPerson() {
				continue
			}
			m := int32(lj.node)
			if g.comp[m] != c {
				continue
			}
			if l == nil {
				l = g.inverse(c)
			}
			v += aik * g.at(c, l, k, m) * g.share(lj, j)
		}
	}
	return graphClamp01(v)
}

// stakePath is one chain of holdings from one enterprise to another.
type stakePath struct {
	nodes   []int32
	pcts    []float64 // pcts[k] is the share nodes[k] holds in nodes[k+1], as registered
	product float64   // fraction, after scaling
}

// stakePaths lists the simple chains of holdings from i to j, largest product first, for the
// evidence: at most limit of them, none longer than maxDepth links or below minProduct.
func (g *entityGraph) stakePaths(i, j int32, maxDepth int, minProduct float64, limit int) []stakePath {
	var out []stakePath
	onPath := map[int32]bool{i: true}
	nodes := []int32{i}
	var pcts []float64
	budget := 20000 // edges explored: a bound for pathological registries
	var walk func(x int32, prod float64)
	walk = func(x int32, prod float64) {
		for _, h := range g.holdings[x] {
			if budget--; budget < 0 {
				return
			}
			y := int32(h.node)
			p := prod * g.share(h, y)
			if onPath[y] || p < minProduct {
				continue
			}
			if y == j {
				out = append(out, stakePath{
					nodes:   append(append([]int32(nil), nodes...), y),
					pcts:    append(append([]float64(nil), pcts...), h.pct),
					product: p,
				})
				continue
			}
			if len(nodes) >= maxDepth {
				continue
			}
			onPath[y] = true
			nodes = append(nodes, y)
			pcts = append(pcts, h.pct)
			walk(y, p)
			nodes, pcts = nodes[:len(nodes)-1], pcts[:len(pcts)-1]
			delete(onPath, y)
		}
	}
	walk(i, 1)
	sort.SliceStable(out, func(a, b int) bool { return out[a].product > out[b].product })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
