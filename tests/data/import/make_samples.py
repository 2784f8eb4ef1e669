"""Writes the import sample files in this folder (run it after changing them; the files are committed).

    .venv/bin/python tests/data/import/make_samples.py

The .xls sample needs xlwt, which the project does not depend on: `pip install --target /tmp/xlwt xlwt` and run
with PYTHONPATH=/tmp/xlwt; without it the committed portfolio.xls is kept as it is.
Every enterprise and patent here is fictional; credit codes and application numbers carry valid check characters
(computed below) except where a row exists to show a problem.
"""
# ruff: noqa: E501  (rows of sample data read best one row per line)
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl

from custody.appno import check_character
from custody.creditcode import credit_code_check_character

HERE = Path(__file__).parent


def appno(year: int, type_digit: int, serial: int) -> str:
    digits = f"{year}{type_digit}{serial:07d}"
    return f"{digits}.{check_character(digits)}"


def code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


MINJIANG = ("福州闽江智能装备有限公司", code("91350100MA2YQ1A00"))
LUDAO = ("厦门鹭岛新材料科技有限公司", code("91350200MA3EXN7T0"))
YUNTU = ("北京海淀云图软件有限公司", code("91110108MA01C8KM0"))
RONGCHENG = ("福州榕城电子有限公司", "91350100M000100Y43")
UNKNOWN_ENTERPRISE = code("91330100MA27XK9Q0")

P1 = appno(2017, 1, 601862)  # 201710601862.3, the rules reference's example
P2 = appno(2018, 2, 123456)
P3 = appno(2019, 3, 456789)
P4 = appno(2015, 1, 308494)
P5 = appno(2020, 1, 999999)
P6 = appno(2017, 2, 555555)
P7 = appno(2021, 1, 246810)  # divisional: filed (parent's date) in 2019
P8 = appno(2018, 8, 12345)  # PCT national phase: international filing date 2016
R1, R2, R3, R4 = appno(2016, 1, 100001), appno(2017, 2, 200002), appno(2018, 3, 300003), appno(2019, 1, 400004)
X1, X2, X3 = appno(2020, 2, 500005), appno(2014, 1, 600006), appno(2016, 2, 700007)


def write_csv(name: str, rows: list[list[object]], encoding: str = "utf-8") -> None:
    with open(HERE / name, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)


def enterprises() -> None:
    header = ["企业名称", "统一社会信用代码", "联系人", "角色", "手机", "邮箱"]
    write_csv("enterprises.csv", [
        header,
        [*MINJIANG, "林晓峰", "知识产权负责人", "13800138000", "lin@minjiang.example.cn"],
        [*MINJIANG, "陈美玲", "财务", "+86 139 0591 2345", ""],
        [*LUDAO, "黄志强", "法定代表人", "186-0592-6789", "huang@ludao.example.cn"],
        [*YUNTU, "王芳", "经办人", "", "wangfang@yuntu.example.com"],
        [*RONGCHENG, "", "", "", ""],
    ])
    bad_code = MINJIANG[1][:-1] + ("0" if MINJIANG[1][-1] != "0" else "1")
    write_csv("enterprises_problems.csv", [
        header,
        ["坏代码有限公司", bad_code, "张三", "财务", "13800138001", ""],
        [*LUDAO, "李四", "财务", "1380013800", ""],
        [*YUNTU, "赵六", "经办人", "", "zhao@@yuntu"],
        [*YUNTU, "钱七", "财务", "", ""],
        [MINJIANG[0] + "（福州）", MINJIANG[1], "", "", "", ""],
        [*MINJIANG, "孙八", "董事长秘书", "13900000000", ""],
    ])


PATENT_HEADER = ["序号", "申请号", "专利名称", "专利类型", "申请日", "授权公告日", "授权年度", "已缴至年度", "费减比例",
                 "法律状态", "专利权人", "统一社会信用代码"]


def portfolio_gbk() -> None:
    write_csv("portfolio_gbk.csv", [
        PATENT_HEADER,
        [1, f"ZL{P1}", "一种智能装配机械臂", "发明", "2017/4/25", "2019-08-02", 3, 7, "85%", "有效", *MINJIANG],
        [2, P2.replace(".", ""), "一种自动送料装置", "实用新型", "2018.03.12", "2018.11.20", "", "", "个人85%", "有效",
         *MINJIANG],
        [3, P3, "包装盒（智能）", "外观设计", "20190615", "2019年12月3日", "第1年", "5", "0.85", "专利权维持", *LUDAO],
        [4, P4, "一种高强度复合材料的制备方法", "发明专利", "2015年10月30日", "2018-01-05", 3, "", "无", "有效", *LUDAO],
        [5, P5, "一种图像识别方法", "发明", "2020-06-01", "", "", "", "", "实质审查", *YUNTU],
        [6, P6, "一种散热结构", "实用新型", "2017-09-06", "2018-03-01", 1, "", "", "未缴年费专利权终止", *YUNTU],
        [7, P7, "一种数据同步方法（分案）", "发明", "2019-03-08", "2022-05-10", 4, 5, "70%", "有效", *YUNTU],
        [8, P8, "一种光学镜头（PCT）", "发明", "2016-11-20", "2021-03-02", 5, 8, "", "有效", *YUNTU],
        [9, P1, "一种智能装配机械臂", "发明", "2017-04-25", "2019/8/2", "3", "7", "85%", "有效", *MINJIANG],
        ["合计", "", "共 8 件", "", "", "", "", "", "", "", "", ""],
    ], encoding="gbk")


def portfolio_title_xlsx() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "专利清单"
    ws.append(["福州榕城电子有限公司 专利清单"])
    ws.merge_cells("A1:J1")
    ws.append(["数据截至：2024年5月1日（法律状态以国家知识产权局公告为准）"])
    ws.merge_cells("A2:J2")
    ws.append(["专利号", "发明名称", "类型", "申请日期", "授权日", "首年度", "年费缴至", "费减", "当前法律状态", "专利权人"])
    ws.append([R1, "一种电源管理电路", "发明", dt.date(2016, 3, 15), dt.date(2018, 9, 7), 3, None, "85%", "有效",
               RONGCHENG[0]])
    ws.append([R2, "一种插接端子", "实用新型", 42900, dt.date(2017, 12, 22), None, dt.date(2024, 6, 9), "85%", "有效",
               RONGCHENG[0]])
    ws.append([float(R3), "电源适配器", "外观设计", "2018-05-09", "2018/10/30", 1, 6, None, "有效", RONGCHENG[0]])
    ws.append([R4, "一种降噪方法", "发明", dt.date(2019, 1, 4), dt.date(2021, 6, 25), 3, None, "无", "有效", RONGCHENG[0]])
    for row in ws.iter_rows(min_row=4, max_row=7, min_col=4, max_col=4):
        for cell in row:
            if isinstance(cell.value, (dt.date, int)):
                cell.number_format = "yyyy-mm-dd" if isinstance(cell.value, dt.date) else "General"
    ws.cell(row=5, column=4).number_format = "General"  # an Excel serial seen as a number
    wb.save(HERE / "portfolio_title.xlsx")


def float_appno_xlsx() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["申请号", "专利名称", "申请日", "授权年度", "已缴至年度"])
    ws.append([float(X1.split(".")[0]), "数字格式丢了校验位", dt.date(2020, 4, 1), 1, 4])
    ws.append([float(X2), "数字格式但带校验位", dt.date(2014, 7, 1), 3, 10])
    wb.save(HERE / "patents_float_appno.xlsx")


def portfolio_xls() -> None:
    try:
        import xlwt
    except ImportError:
        print("xlwt not installed: keeping portfolio.xls")
        return
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Portfolio")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    header = ["Application No.", "Title", "Type", "Filing date", "Grant date", "Grant year", "Paid through",
              "Reduction", "Legal status", "Owners", "Credit code"]
    rows = [
        [X2, "Method of coating", "invention", dt.date(2014, 7, 1), dt.date(2017, 2, 10), 3, 10, "85%", "valid",
         LUDAO[0], LUDAO[1]],
        [X3, "Cooling fin", "utility model", dt.date(2016, 8, 18), dt.date(2017, 4, 5), 1, 8, "none", "valid",
         LUDAO[0], LUDAO[1]],
    ]
    for col, title in enumerate(header):
        ws.write(0, col, title)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            ws.write(r, col, value, date_style) if isinstance(value, dt.date) else ws.write(r, col, value)
    wb.save(str(HERE / "portfolio.xls"))


def portfolio_bom() -> None:
    header = ["Application number", "Patent title", "Patent type", "Filing date", "Granted on", "Grant year",
              "Paid-through", "Fee reduction", "Status", "Enterprise"]
    write_csv("portfolio_bom.csv", [
        header,
        [X1, "Hinge assembly", "utility model", "2020-04-01", "2020-11-13", "1", "4", "70%", "in force", YUNTU[0]],
    ], encoding="utf-8-sig")


def patents_problems() -> None:
    rows = [
        PATENT_HEADER,
        [1, P1[:-1] + ("4" if P1[-1] != "4" else "5"), "校验位错误", "发明", "2017-04-25", "2019-08-02", 3, 6, "", "有效",
         *MINJIANG],
        [2, P2, "类型与申请号矛盾", "发明", "2018-03-12", "2018-11-20", 1, 5, "", "有效", *MINJIANG],
        [3, P3, "授权早于申请", "外观设计", "2019-06-15", "2019-01-03", 1, 5, "", "有效", *LUDAO],
        [4, P4, "申请日晚于申请号年份", "发明", "2016-01-10", "2018-01-05", 3, 8, "", "有效", *LUDAO],
        [5, P6, "已缴至超过保护期", "实用新型", "2017-09-06", "2018-03-01", 1, 11, "", "有效", *YUNTU],
        [6, P7, "重复但不一致 A", "发明", "2019-03-08", "2022-05-10", 4, 5, "70%", "有效", *YUNTU],
        [7, P7, "重复但不一致 B", "发明", "2019-03-08", "2022-05-10", 4, 6, "70%", "有效", *YUNTU],
        [8, P8, "未知企业", "发明", "2016-11-20", "2021-03-02", 5, 8, "", "有效", "某某公司", UNKNOWN_ENTERPRISE],
        [9, R1, "信用代码无效", "发明", "2016-03-15", "2018-09-07", 3, 8, "", "有效", "某某公司", "91350100MA2YQ1A00X"],
        [10, R2, "日期无效", "实用新型", "2017-02-30", "2017-12-22", 1, 6, "", "有效", *MINJIANG],
        [11, R3, "费减有歧义", "外观设计", "2018-05-09", "2018-10-30", 1, 6, "15%", "有效", *MINJIANG],
        [12, "2.01711E+11", "科学计数法", "发明", "2017-04-25", "2019-08-02", 3, 6, "", "有效", *MINJIANG],
        [13, "CN108123456A", "公开号不是申请号", "发明", "2018-01-01", "2019-08-02", 3, 6, "", "有效", *MINJIANG],
        [14, R4, "缺申请日", "发明", "", "2021-06-25", 3, 5, "", "有效", *MINJIANG],
        [15, P5, "授权年度未知", "发明", "2020-06-01", "", "", "", "", "有效", *YUNTU],
    ]
    write_csv("patents_problems.csv", rows)


def header_problems() -> None:
    # 申请号 beside 专利号 is read when they agree (tests/test_operator_commands.py); two filing dates are not.
    write_csv("ambiguous_columns.csv", [["申请号", "申请日", "申请日期"], [P1, "2017-04-25", "2017-04-25"]])
    write_csv("missing_columns.csv", [["申请号", "专利名称"], [P1, "一种智能装配机械臂"]])
    write_csv("no_header.csv", [["甲", "乙"], ["1", "2"]])
    write_csv("profile_export.csv", [["案件编号", "案件名称", "递交日", "授权年", "年费截止年度"],
                                     [P1, "一种智能装配机械臂", "2017-04-25", "3", "7"]])


def payments() -> None:
    header = ["申请号", "费用名称", "金额", "缴费日期", "备注"]
    write_csv("payments.csv", [
        header,
        [P1, "发明专利第8年年费", "¥300.00", "2024-04-20", "票据 0001"],
        [P1, "发明专利第8年年费", "300", "2024/4/20", "票据 0001"],
        [P3, "外观设计专利第6年年费", "180元", "2024-08-01", ""],
        [P3, "外观设计专利年费滞纳金", "60", "2024-08-01", ""],
        [P7, "发明专利第6年年费", "400", "2024-05-20", "滞纳金少缴"],
        [P7, "发明专利第6年年费滞纳金", "80", "2024-05-28", "补缴"],
        [P8, "印花税", "5", "2024-03-01", ""],
    ])
    write_csv("payments_problems.csv", [
        header,
        [P8, "发明专利第9年年费", "1500", "2024-05-01", "少于年费"],
        [X3, "实用新型专利第8年年费", "1200", "2024-04-20", "未知专利"],
        [P6, "实用新型专利第7年年费", "1200", "2024-05-01", "宽限期后"],
        [P4, "年费", "1200", "2024-05-01", "无年度"],
        [P8, "实用新型专利第9年年费", "2000", "2024-05-01", "类型不符"],
        [P7, "发明专利第6年年费", "360", "2024-03-01", ""],
        [P7, "发明专利第6年年费", "100", "2024-03-05", "补缴过多"],
    ])


if __name__ == "__main__":
    enterprises()
    portfolio_gbk()
    portfolio_title_xlsx()
    float_appno_xlsx()
    portfolio_xls()
    portfolio_bom()
    patents_problems()
    header_problems()
    payments()
    print("samples written to", HERE)
