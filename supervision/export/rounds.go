package export

import (
	"fmt"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// RoundList is the frozen list with every line, for the party group meeting.
func RoundList(rd voucherwatch.SubsidyRound, v voucherwatch.RoundVersion) Table {
	rows := [][]string{{locale.T("round.col.rank"), locale.T("round.col.claim"), locale.T("round.col.enterprise"), locale.T("round.col.uscc"), locale.T("round.col.city"),
		locale.T("round.col.score"), locale.T("round.col.assessed"), locale.T("round.col.allocated"), locale.T("round.col.state"), locale.T("round.col.reason")}}
	for _, l := range v.Lines {
		rank := ""
		if l.Rank > 0 {
			rank = fmt.Sprint(l.Rank)
		}
		rows = append(rows, []string{rank, l.ClaimID, l.ApplicantName, l.ApplicantUSCC, voucherwatch.CityName(l.City),
			fmt.Sprintf("%.4f", l.Score), l.Assessed.String(), l.Allocated.String(), locale.T("round.state." + l.State), l.Reason})
	}
	rows = append(rows, []string{locale.T("round.col.total"), "", "", "", "", "", "", v.Total.String(), "",
		fmt.Sprintf(locale.T("round.export.footer"), rd.Year, v.Version, v.InputsDigest)})
	return Table{Sheet: locale.T("round.export.sheet"), Rows: rows, Widths: map[string]float64{"B": 16, "C": 36, "D": 22, "J": 60}}
}

// RoundPayment is the final list's allocated lines, for payment.
func RoundPayment(rd voucherwatch.SubsidyRound, v voucherwatch.RoundVersion) Table {
	rows := [][]string{{locale.T("round.col.claim"), locale.T("round.col.enterprise"), locale.T("round.col.uscc"), locale.T("round.col.city"), locale.T("round.col.allocated")}}
	for _, l := range v.Lines {
		if l.State == voucherwatch.LineAllocated {
			rows = append(rows, []string{l.ClaimID, l.ApplicantName, l.ApplicantUSCC, voucherwatch.CityName(l.City), l.Allocated.String()})
		}
	}
	rows = append(rows, []string{locale.T("round.col.total"), "", "", "", v.Total.String()})
	return Table{Sheet: locale.T("round.export.payment_sheet"), Rows: rows, Widths: map[string]float64{"A": 16, "B": 36, "C": 22}}
}
