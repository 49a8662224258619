package voucherwatch

// Cities maps the 6-digit division code of each of Hunan's 14 市州 to its name.
var Cities = map[string]string{
	"430100": "长沙市",
	"430200": "株洲市",
	"430300": "湘潭市",
	"430400": "衡阳市",
	"430500": "邵阳市",
	"430600": "岳阳市",
	"430700": "常德市",
	"430800": "张家界市",
	"430900": "益阳市",
	"431000": "郴州市",
	"431100": "永州市",
	"431200": "怀化市",
	"431300": "娄底市",
	"433100": "湘西土家族苗族自治州",
}

// cityAliases are the short names senders use besides the full ones.
var cityAliases = map[string]string{"湘西州": "433100", "湘西": "433100"}

// CityCode normalises a 市州 given as a division code or a name ("长沙市", "长沙", "湘西州") to
// its division code. It reports false for anything that is not one of the 14.
func CityCode(s string) (string, bool) {
	if _, ok := Cities[s]; ok {
		return s, true
	}
	if code, ok := cityAliases[s]; ok {
		return code, true
	}
	for code, name := range Cities {
		if s == name || s+"市" == name {
			return code, true
		}
	}
	return "", false
}

// CityName returns the Chinese name of a division code, or the code itself when unknown.
func CityName(code string) string {
	if n, ok := Cities[code]; ok {
		return n
	}
	return code
}
