package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// LatestEntities returns the latest registry version of every enterprise.
func (db *DB) LatestEntities(ctx context.Context) ([]voucherwatch.StoredEntity, error) {
	return db.latestEntities(ctx, `SELECT `+registryColumns+`, source, id, event_time FROM registry_latest`)
}

// LatestEntitiesOf returns the latest registry version of each of usccs the registry holds,
// through the registry's uscc sorting key (registry_latest's order), in no given order.
func (db *DB) LatestEntitiesOf(ctx context.Context, usccs []string) ([]voucherwatch.StoredEntity, error) {
	if len(usccs) == 0 {
		return nil, nil
	}
	return db.latestEntities(ctx, `SELECT `+registryColumns+`, source, id, event_time FROM registry
WHERE uscc IN (SELECT arrayJoin(?))
ORDER BY uscc, event_time DESC, source DESC, id DESC
LIMIT 1 BY uscc`, usccs)
}

func (db *DB) latestEntities(ctx context.Context, query string, args ...any) ([]voucherwatch.StoredEntity, error) {
	rows, err := db.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: latest entities: %w", err)
	}
	defer rows.Close()
	var out []voucherwatch.StoredEntity
	for rows.Next() {
		var se voucherwatch.StoredEntity
		e, err := scanEntity(rows, &se.Source, &se.ID, &se.Time)
		if err != nil {
			return nil, fmt.Errorf("store: latest entities: %w", err)
		}
		se.Type, se.Entity = voucherwatch.TypeRegistry, *e
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest entities: %w", err)
	}
	return out, nil
}

// tradingPairsSQL lists the buyer–supplier pairs that trade under a contract or a settlement
// (any version), with the contract numbers; %s narrows the rows (or "").
const tradingPairsSQL = `SELECT buyer_uscc, supplier_uscc, groupUniqArray(contract_no) AS contracts
FROM (
	SELECT buyer_uscc, supplier_uscc, contract_no FROM contracts %[1]s
	UNION ALL
	SELECT buyer_uscc, supplier_uscc, contract_no FROM settlements %[1]s
)
WHERE buyer_uscc != supplier_uscc
GROUP BY buyer_uscc, supplier_uscc`

// pairClaimsSQL joins each claim's contract numbers to the pair that signed them. A contract
// number is unique per supplier only, so the claim's applicant is part of the key.
const pairClaimsSQL = `SELECT buyer_uscc, supplier_uscc, groupUniqArray(claim_id) AS claims
FROM (
	SELECT applicant_uscc AS buyer_uscc, claim_id, cno FROM claims ARRAY JOIN contract_no AS cno %[2]s
)
ALL INNER JOIN (
	SELECT DISTINCT buyer_uscc, supplier_uscc, contract_no AS cno FROM (
		SELECT buyer_uscc, supplier_uscc, contract_no FROM contracts %[1]s
		UNION ALL
		SELECT buyer_uscc, supplier_uscc, contract_no FROM settlements %[1]s
	)
) USING (buyer_uscc, cno)
GROUP BY buyer_uscc, supplier_uscc`

// TradingPairs returns the trading pairs q selects, sorted by buyer, then supplier.
func (db *DB) TradingPairs(ctx context.Context, q voucherwatch.PairQuery) ([]voucherwatch.TradingPair, error) {
	if q.IsZero() {
		return nil, nil
	}
	// The rows of a pair: its buyer is one of the buyers asked, or one of the parties is on
	// either side (pairs are then filtered exactly in Go).
	where := ""
	var args []any
	if !q.All {
		buyers := append([]string(nil), q.Buyers...)
		for _, p := range q.Pairs {
			buyers = append(buyers, p[0])
		}
		var conds []string
		switch {
		case len(q.Buyers) == 0 && len(q.Parties) == 0:
			// Pairs alone (a check of new contracts): through the supplier prefix of both
			// tables' keys, not a scan of every row's buyer.
			conds, args = append(conds, "supplier_uscc IN (SELECT arrayJoin(?)) AND has(?, buyer_uscc)"), append(args, pairSuppliers(q.Pairs), buyers)
		case len(buyers) > 0:
			conds, args = append(conds, "has(?, buyer_uscc)"), append(args, buyers)
		}
		if len(q.Parties) > 0 {
			conds, args = append(conds, "has(?, buyer_uscc) OR has(?, supplier_uscc)"), append(args, q.Parties, q.Parties)
		}
		where = "WHERE " + strings.Join(conds, " OR ")
	}
	index := map[[2]string]int{}
	var out []voucherwatch.TradingPair
	err := db.scanRows(ctx, fmt.Sprintf(tradingPairsSQL, where), append(append([]any{}, args...), args...), func(scan func(...any) error) error {
		var p voucherwatch.TradingPair
		if err := scan(&p.Buyer, &p.Supplier, &p.Contracts); err != nil {
			return err
		}
		if !q.All && !pairMatches(p.Buyer, p.Supplier, q) {
			return nil
		}
		sort.Strings(p.Contracts)
		index[[2]string{p.Buyer, p.Supplier}] = len(out)
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: trading pairs: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// Claims join on the buyer: narrowing claims and contracts to the pairs' buyers keeps
	// every claim of the pairs.
	claimWhere, contractWhere := "", ""
	var cargs []any
	if !q.All {
		var buyers []string
		pairs := make([][2]string, 0, len(out))
		for _, p := range out {
			buyers = append(buyers, p.Buyer)
			pairs = append(pairs, [2]string{p.Buyer, p.Supplier})
		}
		// The claims through the applicant prefix of their key; the contracts and settlements
		// of the pairs' buyers with the pairs' suppliers through the supplier prefix, which
		// keeps every row of every pair returned.
		claimWhere, contractWhere = "WHERE applicant_uscc IN (SELECT arrayJoin(?))", "WHERE supplier_uscc IN (SELECT arrayJoin(?)) AND has(?, buyer_uscc)"
		suppliers := pairSuppliers(pairs)
		cargs = []any{buyers, suppliers, buyers, suppliers, buyers}
	}
	err = db.scanRows(ctx, fmt.Sprintf(pairClaimsSQL, contractWhere, claimWhere), cargs, func(scan func(...any) error) error {
		var buyer, supplier string
		var claims []string
		if err := scan(&buyer, &supplier, &claims); err != nil {
			return err
		}
		if i, ok := index[[2]string{buyer, supplier}]; ok {
			sort.Strings(claims)
			out[i].Claims = claims
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claims of trading pairs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Buyer != out[j].Buyer {
			return out[i].Buyer < out[j].Buyer
		}
		return out[i].Supplier < out[j].Supplier
	})
	return out, nil
}

// pairSuppliers lists the distinct suppliers of (buyer, supplier) pairs.
func pairSuppliers(pairs [][2]string) []string {
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, p[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func pairMatches(buyer, supplier string, q voucherwatch.PairQuery) bool {
	for _, p := range q.Pairs {
		if p[0] == buyer && p[1] == supplier {
			return true
		}
	}
	for _, x := range q.Parties {
		if x == buyer || x == supplier {
			return true
		}
	}
	for _, x := range q.Buyers {
		if x == buyer {
			return true
		}
	}
	return false
}

// scanRows runs a query and calls each for every row.
func (db *DB) scanRows(ctx context.Context, q string, args []any, each func(scan func(...any) error) error) error {
	rows, err := db.conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
