"""Material for the demo district: surnames, given-name characters, schools, subjects, phone and ID
numbers, ethnicities, and the split of a school's students into grades and classes.

Everything here is plain data plus small pure helpers that draw from a caller-supplied
``random.Random`` — never the global generator — so a seed fully determines the output.
"""
from __future__ import annotations

import random
from datetime import date
from itertools import accumulate

from foundation.codes import codes_of
from foundation.security.fields import id_check_char

# Common surnames with rough population shares (per mille); rng.choices weights them.
_SURNAMES = (
    "王71 李70 张67 刘54 陈45 杨31 黄22 赵20 吴19 周19 徐13 孙13 马12 朱12 胡11 郭11 何10 高9 林9 罗9 "
    "郑8 梁8 谢7 宋6 唐6 许6 韩6 冯6 邓6 曹5 彭5 曾5 肖5 田5 董5 袁4 潘4 于4 蒋4 蔡4 余4 杜4 叶4 程4 "
    "苏3 魏3 吕3 丁3 任3 沈3 姚3 卢3 姜3 崔3 钟3 谭3 陆3 汪3 范3 金3 石3 廖3 贾3 夏3 韦3 付3 方3 "
    "白2 邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 闫2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 "
    "万2 钱2 严2 覃1 武1 戴1 莫1 孔1 向1 汤1 欧阳1 上官1"
)
SURNAMES: list[str] = []
_SURNAME_WEIGHTS: list[int] = []
for _item in _SURNAMES.split():
    SURNAMES.append(_item.rstrip("0123456789"))
    _SURNAME_WEIGHTS.append(int(_item[len(SURNAMES[-1]):]))
SURNAME_CUM = list(accumulate(_SURNAME_WEIGHTS))

MALE_CHARS = "浩宇轩然博文俊杰涛磊鹏泽睿晨航明辰豪昊天逸锦程帆哲翔凯铭诚恒嘉伟建志强军斌毅峰煜宁远瑞阳鑫"
FEMALE_CHARS = "欣怡梓涵萱雨诗琪佳悦雅婷晴思可馨彤妍琳婉静慧瑶璐菲蕾颖洁露丽芳敏燕玲雪月心语若汐"
NEUTRAL_CHARS = "子一安诺嘉乐晨宁文言亦沐清"

# Mobile number prefixes actually in use (13x–19x).
PHONE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 159 "
    "166 172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 196 198 199"
).split()

# Region prefixes of guardians' ID numbers: mostly local (长宁区), some born elsewhere.
GUARDIAN_REGIONS = ("310105",) * 6 + ("310104", "310112", "320102", "330106", "340104",
                                        "370102", "410105", "420106", "510107", "230103")

# Weights of the larger minorities (GB/T 3304 codes); the other real codes share a small weight.
MINORITY_WEIGHTS = {"08": 30, "03": 20, "11": 20, "05": 18, "06": 18, "07": 15, "15": 15, "04": 12,
                    "02": 11, "12": 5, "09": 5, "13": 5, "14": 4, "10": 4, "16": 3, "17": 3, "19": 3}

# Streets of the district (code 310105): (zh, en) — school names are built from them.
ROADS = (
    ("长宁路", "Changning Road"), ("延安西路", "West Yan'an Road"), ("愚园路", "Yuyuan Road"),
    ("江苏路", "Jiangsu Road"), ("华山路", "Huashan Road"), ("番禺路", "Panyu Road"),
    ("新华路", "Xinhua Road"), ("定西路", "Dingxi Road"), ("安化路", "Anhua Road"),
    ("武夷路", "Wuyi Road"), ("法华镇路", "Fahuazhen Road"), ("凯旋路", "Kaixuan Road"),
    ("中山西路", "West Zhongshan Road"), ("天山路", "Tianshan Road"), ("仙霞路", "Xianxia Road"),
    ("虹桥路", "Hongqiao Road"), ("古北路", "Gubei Road"), ("水城路", "Shuicheng Road"),
    ("遵义路", "Zunyi Road"), ("娄山关路", "Loushanguan Road"), ("茅台路", "Maotai Road"),
    ("威宁路", "Weining Road"), ("哈密路", "Hami Road"), ("剑河路", "Jianhe Road"),
    ("北新泾", "Beixinjing"), ("新泾", "Xinjing"), ("程家桥", "Chengjiaqiao"),
    ("周家桥", "Zhoujiaqiao"), ("华阳路", "Huayang Road"), ("泸定路", "Luding Road"),
    ("协和路", "Xiehe Road"), ("绥宁路", "Suining Road"),
)

# stage → (first grade, last grade, zh suffix of road schools, en suffix, flagship zh, flagship en,
#          zh pattern of numbered schools, en pattern, first number used by the numbered pattern)
STAGES = {
    "primary": (1, 6, "小学", "Primary School", "示范区实验小学", "Demo District Experimental Primary School",
                "示范区第{}中心小学", "Demo District No. {} Central Primary School", 1),
    "junior": (7, 9, "初级中学", "Junior High School", "示范区实验初级中学",
               "Demo District Experimental Junior High School",
               "示范区第{}初级中学", "Demo District No. {} Junior High School", 1),
    "senior": (10, 12, "中学", "High School", "示范区第一中学", "Demo District No. 1 High School",
               "示范区第{}中学", "Demo District No. {} High School", 2),
    # secondary vocational (中职): three years after junior high, ages as grades 10–12
    "vocational": (10, 12, "职业学校", "Vocational School", "示范区职业技术学校",
                   "Demo District Vocational and Technical School",
                   "示范区第{}职业学校", "Demo District No. {} Vocational School", 2),
}
# the n-th school's stage; the first three stages keep their place (and their draws of road names) so that a
# seed's first schools stay what they were before vocational schools joined
STAGE_CYCLE = ("primary", "junior", "vocational", "senior")
ROAD_STAGES = ("primary", "junior", "senior")

SUBJECTS = {
    "primary": ("数学", "英语", "科学", "音乐", "美术", "体育", "道德与法治", "信息科技"),
    "junior": ("数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "体育"),
    "senior": ("数学", "英语", "物理", "化学", "生物", "历史", "地理", "思想政治", "信息技术"),
    "vocational": ("数学", "英语", "信息技术", "体育与健康", "思想政治", "机械基础", "电工电子技术", "数控加工",
                   "汽车维修"),
}
HOMEROOM_SUBJECTS = ("语文",) * 5 + ("数学",) * 3 + ("英语",) * 2

# (zh, en) of departments; the first two exist in every school, 德育处 in about two thirds.
DEPARTMENTS = (("语文教研组", "Chinese Teaching Group"), ("数学教研组", "Mathematics Teaching Group"),
               ("德育处", "Moral Education Office"))

# Guardians (GB/T 4761): the usual partner of a relation, grandparents, relations held by men.
PAIR = {"51": "52", "52": "51", "61": "62", "62": "61", "63": "64", "64": "63"}
GRANDPARENTS = ("61", "62", "63", "64")
MALE_RELATIONS = frozenset({"51", "61", "63"})

_DIGITS = "零一二三四五六七八九"


def plan_grades(first: int, last: int, students: int) -> list[tuple[int, list[int]]]:
    """[(grade, [class sizes])]: as many grades (from ``first``) as allow an even split into classes
    of 40–50; when none does (small schools), one grade with classes of at most 50."""
    def split(n: int, k: int) -> list[int]:
        return [n // k + (i < n % k) for i in range(k)]

    def fits(n: int) -> bool:
        return n >= 40 * -(-n // 50)

    used = next((g for g in range(last - first + 1, 0, -1) if all(map(fits, split(students, g)))), 1)
    return [(first + i, split(n, -(-n // 50))) for i, n in enumerate(split(students, used))]


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五, 310 → 三百一十 (1 ≤ n ≤ 999)."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = _DIGITS[hundreds] + "百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    if ones:
        out += _DIGITS[ones]
    return out


def _grade_words(grade: int, stage: str | None) -> tuple[str, str, str]:
    """(full zh, zh as a class name begins, en) of a grade: 七年级 / 七年级 / Grade 7; 高一年级 / 高一 / Grade 10;
    中职一年级 / 中职一年级 / Vocational Year 1."""
    if stage == "vocational":
        zh = f"中职{cn_number(grade - 9)}年级"
        return zh, zh, f"Vocational Year {grade - 9}"
    if grade >= 10:
        short = f"高{cn_number(grade - 9)}"
        return short + "年级", short, f"Grade {grade}"
    zh = f"{cn_number(grade)}年级"
    return zh, zh, f"Grade {grade}"


def grade_name(grade: int, stage: str | None = None) -> tuple[str, str]:
    """(七年级, Grade 7); senior grades are 高一年级 … 高三年级 (Grade 10 …), vocational ones 中职一年级 …
    (Vocational Year 1 …). The one spelling of a grade, in both languages: class names are built on it."""
    zh, _, en = _grade_words(grade, stage)
    return zh, en


def class_name(grade: int, seq: int, stage: str | None = None) -> tuple[str, str]:
    """(二年级(1)班, Grade 2 Class 1); senior: 高一(3)班 / Grade 10 Class 3; vocational: 中职一年级(2)班 /
    Vocational Year 1 Class 2 — the grade's own name (:func:`grade_name`) with the class's number."""
    _, zh, en = _grade_words(grade, stage)
    return f"{zh}({seq})班", f"{en} Class {seq}"


def school_names(stage: str, k: int, roads: list[tuple[str, str]]) -> tuple[str, str]:
    """Name of the ``k``-th (0-based) school of ``stage``: the flagship, then one per road, then
    numbered ones. Unique per stage, and the stage suffixes keep stages apart."""
    (_, _, suffix, suffix_en, flag, flag_en, numbered, numbered_en, first) = STAGES[stage]
    if k == 0:
        return flag, flag_en
    if k <= len(roads):
        zh, en = roads[k - 1]
        return zh + suffix, f"{en} {suffix_en}"
    n = k - len(roads) - 1 + first
    return numbered.format(cn_number(n)), numbered_en.format(n)


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=SURNAME_CUM)[0]


def given_name(rng: random.Random, male: bool) -> str:
    pool = MALE_CHARS if male else FEMALE_CHARS
    first = rng.choice(pool) if rng.random() < 0.85 else rng.choice(NEUTRAL_CHARS)
    if rng.random() < 0.3:
        return first
    second = rng.choice(pool)
    return first + (second if second != first else rng.choice(pool))


def person_name(rng: random.Random, male: bool, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, male)


def phone(rng: random.Random, used: set[str]) -> str:
    """An 11-digit mobile number not in ``used`` (and added to it)."""
    while (number := rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}") in used:
        pass
    used.add(number)
    return number


def id_number(rng: random.Random, used: set[str], region: str, born: date, male: bool) -> str:
    """A valid 18-digit ID number (GB 11643) whose first 17 digits are not in ``used`` (and are added
    to it); the sequence number's last digit is odd for men, even for women."""
    stem = f"{region}{born.year:04d}{born.month:02d}{born.day:02d}"
    for _ in range(1000):
        first17 = f"{stem}{2 * rng.randrange(1, 500) - male:03d}"
        if first17 not in used:
            used.add(first17)
            return first17 + id_check_char(first17)
    raise RuntimeError(f"no free ID number sequence left for {stem}")


def minorities() -> tuple[list[str], list[int]]:
    """Real GB/T 3304 codes other than 汉族 (and 其他 / 外国血统), with cumulative weights."""
    codes = [c for c in codes_of("ethnicity") if c not in ("01", "97", "98")]
    return codes, list(accumulate(MINORITY_WEIGHTS.get(c, 1) for c in codes))
