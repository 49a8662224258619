package evidence

import (
	"os"
	"testing"

	"github.com/voucherwatch/voucherwatch/detectors/detectortest"
)

// TestMain drops the province TestRenderProvinceAlerts loads once every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	detectortest.DropShared()
	os.Exit(code)
}
