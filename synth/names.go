package synth

import "math/rand/v2"

// city is one 市州 as the generator places enterprises in it.
type city struct {
	code      string
	name      string // as in voucherwatch.Cities
	weight    int    // share of enterprises registered there; Changsha dominates the AI economy
	districts []district
	roads     []string
}

type district struct{ name, code string }

// cities lists the 14 市州. Their codes must agree with voucherwatch.Cities; a test checks it.
var cities = []city{
	{"430100", "长沙市", 46, []district{{"芙蓉区", "430102"}, {"天心区", "430103"}, {"岳麓区", "430104"},
		{"开福区", "430105"}, {"雨花区", "430111"}, {"望城区", "430112"}, {"长沙县", "430121"},
		{"浏阳市", "430181"}, {"宁乡市", "430182"}},
		[]string{"麓谷大道", "岳麓大道", "桐梓坡西路", "芙蓉中路", "五一大道", "韶山中路", "万家丽中路",
			"劳动东路", "湘江中路", "星沙大道", "黄兴大道", "尖山路", "文轩路", "东方红中路", "潇湘北路",
			"金星北路", "车站北路", "湘府中路", "雷锋大道", "沿江大道"}},
	{"430200", "株洲市", 8, []district{{"荷塘区", "430202"}, {"芦淞区", "430203"}, {"石峰区", "430204"},
		{"天元区", "430211"}}, []string{"珠江北路", "黄河南路", "长江北路", "栗雨工业园路", "新华西路", "田心大道"}},
	{"430300", "湘潭市", 7, []district{{"雨湖区", "430302"}, {"岳塘区", "430304"}, {"湘潭县", "430321"}},
		[]string{"芙蓉大道", "建设北路", "韶山西路", "吉利东路", "晓塘路", "九华大道"}},
	{"430400", "衡阳市", 6, []district{{"珠晖区", "430405"}, {"雁峰区", "430406"}, {"石鼓区", "430407"},
		{"蒸湘区", "430408"}}, []string{"解放大道", "蒸湘北路", "船山大道", "白沙大道", "衡州大道"}},
	{"430500", "邵阳市", 3, []district{{"双清区", "430502"}, {"大祥区", "430503"}, {"北塔区", "430511"}},
		[]string{"宝庆中路", "敏州西路", "邵石路"}},
	{"430600", "岳阳市", 5, []district{{"岳阳楼区", "430602"}, {"云溪区", "430603"}, {"君山区", "430611"}},
		[]string{"巴陵中路", "金鹗中路", "青年中路", "求索路"}},
	{"430700", "常德市", 5, []district{{"武陵区", "430702"}, {"鼎城区", "430703"}},
		[]string{"朗州路", "人民中路", "柳叶大道", "桃花源路"}},
	{"430800", "张家界市", 2, []district{{"永定区", "430802"}, {"武陵源区", "430811"}},
		[]string{"大庸路", "天门路"}},
	{"430900", "益阳市", 3, []district{{"资阳区", "430902"}, {"赫山区", "430903"}},
		[]string{"康富南路", "龙洲路", "银城大道"}},
	{"431000", "郴州市", 4, []district{{"北湖区", "431002"}, {"苏仙区", "431003"}},
		[]string{"国庆北路", "郴江路", "五岭大道", "青年大道"}},
	{"431100", "永州市", 2, []district{{"零陵区", "431102"}, {"冷水滩区", "431103"}},
		[]string{"凤凰路", "零陵中路", "逸云路"}},
	{"431200", "怀化市", 3, []district{{"鹤城区", "431202"}}, []string{"迎丰中路", "锦溪南路", "鹤洲北路"}},
	{"431300", "娄底市", 3, []district{{"娄星区", "431302"}}, []string{"长青中街", "氐星路", "湘中大道"}},
	{"433100", "湘西土家族苗族自治州", 2, []district{{"吉首市", "433101"}}, []string{"人民北路", "世纪大道"}},
}

// cityShort is how senders write a city when they use its name instead of its code.
var cityShort = map[string]string{
	"430100": "长沙市", "430200": "株洲市", "430300": "湘潭市", "430400": "衡阳市", "430500": "邵阳市",
	"430600": "岳阳市", "430700": "常德市", "430800": "张家界", "430900": "益阳市", "431000": "郴州市",
	"431100": "永州", "431200": "怀化市", "431300": "娄底市", "433100": "湘西州",
}

// brand is a 字号 (trade name) with its pinyin, so that mail domains look like the firm's.
type brand struct{ zh, py string }

var brands = []brand{
	{"麓谷", "lugu"}, {"星沙", "xingsha"}, {"湘江", "xiangjiang"}, {"岳麓", "yuelu"}, {"橘洲", "juzhou"},
	{"芙蓉", "furong"}, {"天心", "tianxin"}, {"梅溪", "meixi"}, {"洞庭", "dongting"}, {"衡岳", "hengyue"},
	{"南岳", "nanyue"}, {"韶峰", "shaofeng"}, {"潇湘", "xiaoxiang"}, {"楚天", "chutian"}, {"三湘", "sanxiang"},
	{"云麓", "yunlu"}, {"金霞", "jinxia"}, {"望城", "wangcheng"}, {"浏河", "liuhe"}, {"沩江", "weijiang"},
	{"智擎", "zhiqing"}, {"华瑞", "huarui"}, {"博纳", "bona"}, {"睿思", "ruisi"}, {"领航", "linghang"},
	{"深蓝", "shenlan"}, {"星河", "xinghe"}, {"远景", "yuanjing"}, {"瀚海", "hanhai"}, {"启明", "qiming"},
	{"致远", "zhiyuan"}, {"凌云", "lingyun"}, {"湘研", "xiangyan"}, {"长缨", "changying"}, {"君山", "junshan"},
	{"岳阳楼", "yyl"}, {"资江", "zijiang"}, {"沅澧", "yuanli"}, {"武陵", "wuling"}, {"雪峰", "xuefeng"},
	{"东江", "dongjiang"}, {"舜德", "shunde"}, {"紫鹊", "zique"}, {"云帆", "yunfan"}, {"数湘", "shuxiang"},
	{"智湘", "zhixiang"}, {"芯湘", "xinxiang"}, {"算盈", "suanying"}, {"极光", "jiguang"}, {"北斗星", "bdx"},
	{"鲲鹏", "kunpeng"}, {"天枢", "tianshu"}, {"玄武", "xuanwu"}, {"青竹", "qingzhu"}, {"嘉禾", "jiahe"},
	{"卓越", "zhuoyue"}, {"恒信", "hengxin"}, {"中湘", "zhongxiang"}, {"景行", "jingxing"}, {"知行", "zhixing"},
	{"明德", "mingde"}, {"弘毅", "hongyi"}, {"求索", "qiusuo"}, {"思齐", "siqi"}, {"观澜", "guanlan"},
	{"长岛", "changdao"}, {"兴湘", "xingxiang"}, {"新湘", "newxiang"}, {"湘能", "xiangneng"}, {"湘博", "xiangbo"},
}

// domains are 算力应用领域 as buyers fill them in (附件2), with the industry words of their firms'
// names and what they use compute for.
var domains = []struct {
	name     string
	trades   []string
	purposes []string
}{
	{"具身智能", []string{"机器人", "智能装备", "具身智能"}, []string{"人工智能模型训练推理", "数据标注"}},
	{"生物医药", []string{"生物医药", "生物科技", "基因科技"}, []string{"人工智能模型训练推理", "数据分析"}},
	{"智能制造", []string{"智能制造", "精密机械", "工业智能", "智能装备"}, []string{"人工智能模型训练推理", "工程设计"}},
	{"自动驾驶", []string{"智能驾驶", "汽车科技", "智行科技"}, []string{"人工智能模型训练推理", "数据标注"}},
	{"智慧医疗", []string{"医疗科技", "健康科技", "医学影像"}, []string{"人工智能模型训练推理", "数据分析"}},
	{"文化旅游", []string{"文化传媒", "数字影视", "动漫游戏"}, []string{"人工智能模型训练推理", "其他"}},
	{"智慧教育", []string{"教育科技", "智慧教育"}, []string{"人工智能模型训练推理", "数据分析"}},
	{"低空经济", []string{"航空科技", "无人机", "低空科技"}, []string{"人工智能模型训练推理", "工程设计"}},
	{"农业", []string{"农业科技", "智慧农业"}, []string{"数据分析", "人工智能模型训练推理"}},
	{"基础研究", []string{"新材料", "量子科技", "计算科学"}, []string{"数据分析", "工程设计"}},
	{"智能终端", []string{"电子科技", "智能终端"}, []string{"人工智能模型训练推理", "工程设计"}},
	{"政务服务", []string{"信息技术", "数字科技", "软件"}, []string{"人工智能模型训练推理", "数据分析"}},
	{"应急管理", []string{"安全科技", "应急科技"}, []string{"数据分析", "人工智能模型训练推理"}},
	{"高危作业", []string{"矿山智能", "电力科技"}, []string{"人工智能模型训练推理", "数据标注"}},
}

// surnames and givenNames make Chinese names. The pools are small on purpose: as in life, 王伟 and
// 张敏 turn up in many firms, and only the id number tells the people apart.
var surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱",
	"高", "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "唐", "邓", "彭", "曾", "肖", "田", "谭",
	"廖", "邹", "易", "龙", "贺", "欧阳", "向", "蒋", "文"}

var givenNames = []string{"伟", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
	"超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "文", "华", "红", "鹏", "宇", "浩", "婷",
	"晨", "欣怡", "子涵", "俊杰", "芳", "斌", "辉", "丹", "亮", "建国", "湘平", "湘军", "丽华", "志刚", "思远"}

var femaleGiven = map[string]bool{"敏": true, "静": true, "丽": true, "艳": true, "娟": true, "秀英": true,
	"霞": true, "桂英": true, "海燕": true, "红": true, "婷": true, "欣怡": true, "子涵": true, "芳": true,
	"丹": true, "丽华": true}

// datacenters are 算力中心 sites; a supplier's capacity lines sit in one or two of them.
var datacenters = []struct{ name, city string }{
	{"长株潭算力中心", "430100"}, {"湘江新区智算中心", "430100"}, {"马栏山视频云计算中心", "430100"},
	{"浏阳算力中心", "430100"}, {"星河算力中心", "430100"}, {"麓谷人工智能计算中心", "430100"},
	{"株洲云龙数据中心", "430200"}, {"湘潭九华智算中心", "430300"}, {"衡阳白沙洲数据中心", "430400"},
	{"郴州东江湖大数据中心", "431000"}, {"娄底万宝算力中心", "431300"}, {"岳阳城陵矶数据中心", "430600"},
	{"常德智算中心", "430700"}, {"益阳高新区算力中心", "430900"},
}

var buildings = []string{"中电软件园", "麓谷企业广场", "湘江智谷", "金融中心", "科创大厦", "智慧产业园",
	"创业大厦", "高新科技园", "人工智能产业园", "软件产业基地", "数字经济产业园", "总部基地"}

var mailHosts = []string{"qq.com", "163.com", "126.com", "sina.com", "foxmail.com"}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
