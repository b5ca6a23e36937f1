"""Default texts a station can edit: monthly themes and festival activities."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    month: int
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    activities_zh: tuple[str, ...]
    activities_en: tuple[str, ...]


MONTHLY_THEMES: tuple[Theme, ...] = (
    Theme(
        1,
        "迎新春·送温暖",
        "Welcome the New Year, Bring Warmth",
        "辞旧迎新之际，走访困难群众，把温暖送到家。",
        "As the year turns, visit residents in difficulty and bring warmth to their homes.",
        ("走访慰问困难家庭和独居老人", "义写春联、送福字", "冬季安全用电用气宣传"),
        (
            "Visit families in difficulty and elderly people living alone",
            "Write Spring Festival couplets and 福 characters for neighbours",
            "Winter safety talks on electricity and gas",
        ),
    ),
    Theme(
        2,
        "我们的节日·春节 元宵",
        "Our Festivals: Spring Festival and Lantern Festival",
        "弘扬传统节日文化，欢度春节，喜闹元宵。",
        "Celebrate the Spring Festival and the Lantern Festival and keep their customs alive.",
        ("元宵猜灯谜、包汤圆", "春节期间文明祝福、平安过节宣传", "为留守儿童和空巢老人送节日问候"),
        (
            "Lantern riddles and making tangyuan",
            "Civil, safe celebration campaigns during the holiday",
            "Festival greetings for left-behind children and elderly people living alone",
        ),
    ),
    Theme(
        3,
        "学雷锋志愿服务月",
        "Learn from Lei Feng Volunteer Month",
        "弘扬雷锋精神，人人参与志愿服务。",
        "Carry on the spirit of Lei Feng: everyone can volunteer.",
        ("学雷锋集中服务日：义剪、义诊、家电维修", "三八妇女节关爱女性活动", "志愿者招募与培训"),
        (
            "Lei Feng service day: free haircuts, health checks, appliance repair",
            "Women's Day activities caring for women",
            "Recruit and train new volunteers",
        ),
    ),
    Theme(
        4,
        "爱国卫生月·全民阅读",
        "Patriotic Health Month and Reading for All",
        "清洁家园，倡导健康生活；世界读书日，共享书香。",
        "Clean up our neighbourhood and live healthily; share books on World Book Day.",
        ("环境卫生大扫除、垃圾分类宣传", "世界读书日亲子共读、图书漂流", "清明文明祭扫宣传"),
        (
            "Neighbourhood clean-up and waste sorting campaign",
            "World Book Day family reading and book swaps",
            "Promote civil, green tomb-sweeping at Qingming",
        ),
    ),
    Theme(
        5,
        "劳动最光荣·关爱母亲",
        "Honour Work, Care for Mothers",
        "崇尚劳动，致敬劳动者；母亲节关爱母亲。",
        "Honour work and working people; care for mothers on Mother's Day.",
        ("致敬一线劳动者，送清凉、送慰问", "母亲节为母亲送祝福、做家务", "青少年劳动实践体验"),
        (
            "Thank frontline workers with visits and small gifts",
            "Mother's Day greetings and helping mothers at home",
            "Hands-on work experience for young people",
        ),
    ),
    Theme(
        6,
        "关爱儿童·端午安康",
        "Caring for Children, Dragon Boat Festival",
        "守护儿童健康成长，共度端午佳节。",
        "Help children grow up safe and healthy, and celebrate the Dragon Boat Festival together.",
        ("六一关爱留守儿童、困境儿童", "端午包粽子送邻里、编五彩绳", "防溺水安全教育"),
        (
            "Children's Day care for left-behind children and children in difficulty",
            "Make zongzi for neighbours and weave five-colour threads",
            "Drowning-prevention safety lessons",
        ),
    ),
    Theme(
        7,
        "夏日送清凉",
        "Cool Summer Care",
        "高温时节，为户外劳动者和困难群众送清凉。",
        "In the hot season, bring relief to outdoor workers and residents in need.",
        ("为环卫工人、快递小哥送清凉", "暑期青少年托管与兴趣课堂", "防暑降温健康宣传"),
        (
            "Cold drinks and rest stops for sanitation and delivery workers",
            "Summer day care and hobby classes for children",
            "Heat-stroke prevention health talks",
        ),
    ),
    Theme(
        8,
        "全民健身·健康同行",
        "Fitness for All, Healthy Together",
        "8月8日全民健身日，倡导科学健身、健康生活。",
        "National Fitness Day on 8 August: exercise well, live healthily.",
        ("组织广场舞、健步走等健身活动", "义诊与健康知识讲座", "八一走访慰问退役军人和军属"),
        (
            "Group dancing, walking and other fitness activities",
            "Free health checks and health talks",
            "Visit veterans and military families around 1 August",
        ),
    ),
    Theme(
        9,
        "敬师爱学·中秋团圆",
        "Honour Teachers, Mid-Autumn Reunion",
        "教师节尊师重教，中秋佳节情暖万家。",
        "Honour teachers on Teachers' Day and share the Mid-Autumn reunion with every family.",
        ("教师节向老师致敬", "中秋为困难群众送月饼", "开学季助学帮扶"),
        (
            "Thank teachers on Teachers' Day",
            "Bring moon cakes to residents in need at Mid-Autumn",
            "Back-to-school help for pupils in need",
        ),
    ),
    Theme(
        10,
        "孝老爱亲·情暖重阳",
        "Respect the Elderly, Warm Double Ninth",
        "弘扬孝老爱亲美德，重阳节关爱老年人。",
        "Honour filial piety and family love; care for the elderly at the Double Ninth Festival.",
        ("重阳走访慰问高龄、独居老人", "为老人义诊、测血压", "国庆节爱国主义宣传"),
        (
            "Visit very old people and those living alone at Double Ninth",
            "Free health checks and blood-pressure tests for the elderly",
            "Patriotic activities around National Day",
        ),
    ),
    Theme(
        11,
        "消防安全·移风易俗",
        "Fire Safety and Civil Customs",
        "11月9日消防宣传日，守护平安；倡导婚事新办、丧事简办。",
        "Fire Safety Day on 9 November keeps us safe; promote simple, thrifty weddings and funerals.",
        ("入户消防安全检查与宣传", "移风易俗、反对铺张浪费宣传", "冬季防火应急演练"),
        (
            "Home fire-safety checks and advice",
            "Campaigns for simple weddings and funerals and against waste",
            "Winter fire drills",
        ),
    ),
    Theme(
        12,
        "冬日暖心·志愿同行",
        "Warm Winter, Volunteers Together",
        "寒冬送温暖；12月5日国际志愿者日，致敬每一位志愿者。",
        "Bring warmth in the cold; thank every volunteer on International Volunteer Day, 5 December.",
        ("为困难群众送棉衣、送年货", "国际志愿者日表彰优秀志愿者", "年度志愿服务时长核对与证明"),
        (
            "Warm clothes and New Year goods for residents in need",
            "Honour outstanding volunteers on International Volunteer Day",
            "Check each volunteer's yearly hours and issue proof",
        ),
    ),
)


def default_theme(month: int) -> Theme:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return MONTHLY_THEMES[month - 1]


# Customs and suggested volunteer activities per Festival.key (see calendar.py).
FESTIVAL_ACTIVITIES: dict[str, dict[str, str]] = {
    "chuxi": {
        "zh": "除夕辞旧岁：为独居老人送年夜饭，提醒安全燃放烟花爆竹。",
        "en": "New Year's Eve: bring reunion dinners to elderly people living alone; "
        "remind everyone of firework safety.",
    },
    "chunjie": {
        "zh": "春节贴春联、拜大年：组织义写春联、送福字，走访慰问独居老人和困难家庭。",
        "en": "Spring Festival couplets and New Year visits: write couplets (写春联) and 福 characters, "
        "visit those living alone and families in difficulty.",
    },
    "yuanxiao": {
        "zh": "元宵赏花灯、吃元宵：举办猜灯谜、包汤圆活动，邀请邻里共度佳节。",
        "en": "Lantern Festival: hold lantern riddles (猜灯谜) and make tangyuan together with neighbours.",
    },
    "qingming": {
        "zh": "清明慎终追远：倡导文明祭祀、绿色祭扫，组织缅怀革命先烈活动。",
        "en": "Qingming: promote civil, green tomb-sweeping (文明祭祀) and remember revolutionary martyrs.",
    },
    "duanwu": {
        "zh": "端午包粽子、系五彩绳：为老年邻居包粽子、送粽子，给孩子们编五彩绳。",
        "en": "Dragon Boat Festival: make zongzi (包粽子) for elderly neighbours "
        "and weave five-colour threads (五彩绳) for children.",
    },
    "qixi": {
        "zh": "七夕乞巧：讲述七夕习俗，倡导家庭美德和婚事新办，开展家风家教活动。",
        "en": "Qixi: share its customs, promote family virtues and simple weddings, hold family-values activities.",
    },
    "zhongqiu": {
        "zh": "中秋赏月团圆：为困难群众、空巢老人送月饼，举办邻里中秋联欢。",
        "en": "Mid-Autumn: bring moon cakes to those in need and to elderly people living alone; "
        "hold a neighbourhood gathering.",
    },
    "chongyang": {
        "zh": "重阳登高敬老：开展孝老爱亲走访，为老年人义诊、测血压。",
        "en": "Double Ninth: visits honouring the elderly (孝老爱亲) and free health checks for them.",
    },
    "leifeng": {
        "zh": "学雷锋纪念日：集中开展义剪、义诊、家电维修等便民服务。",
        "en": "Learn from Lei Feng Day: a service day with free haircuts, health checks and appliance repair.",
    },
    "womens_day": {
        "zh": "三八妇女节：关爱女性健康，慰问困难妇女和一线女职工。",
        "en": "Women's Day: women's health talks and visits to women in difficulty and frontline women workers.",
    },
    "reading_day": {
        "zh": "世界读书日：亲子共读、图书漂流、为老人读报。",
        "en": "World Book Day: family reading, book swaps, reading newspapers to the elderly.",
    },
    "mothers_day": {
        "zh": "母亲节：为母亲送祝福，关爱单亲和困难母亲。",
        "en": "Mother's Day: greetings for mothers and care for single and struggling mothers.",
    },
    "fathers_day": {
        "zh": "父亲节：亲子活动，倡导父亲参与家庭教育。",
        "en": "Father's Day: parent-child activities encouraging fathers to take part in raising children.",
    },
    "party_day": {
        "zh": "建党节：重温入党誓词，走访慰问老党员。",
        "en": "Party Founding Day: renew the oath and visit long-serving Party members.",
    },
    "national_day": {
        "zh": "国庆节：升国旗、唱国歌，开展爱国主义宣传和节日志愿服务。",
        "en": "National Day: flag raising, patriotic activities and holiday volunteer service.",
    },
    "volunteer_day": {
        "zh": "国际志愿者日：表彰优秀志愿者，招募新志愿者，核对年度服务时长。",
        "en": "International Volunteer Day: honour outstanding volunteers, recruit new ones, check the year's hours.",
    },
}
