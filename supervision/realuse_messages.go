package supervision

// realUseMessages are the catalogue's entries of the real-use detectors (idle_consumption,
// wash_trade), kept apart from messages.go and merged into it when the package starts.
var realUseMessages = map[string]string{
	"detector.idle_consumption": "付费算力闲置",
	"detector.wash_trade":       "循环交易（对敲）",
}

func init() {
	for k, v := range realUseMessages {
		if _, dup := messages[k]; dup {
			panic("supervision: message " + k + " defined twice")
		}
		messages[k] = v
	}
	// detectorNames and caseDetectors (which the alert filters check) are initialised before
	// any init runs: both get the real-use detectors here.
	detectorNames = append(detectorNames, "idle_consumption", "wash_trade")
	caseDetectors = append(caseDetectors, "idle_consumption", "wash_trade")
}
