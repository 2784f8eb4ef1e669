"""Writes the sample portfolio in this folder (the files are committed; rerun after changing this script).

    .venv/bin/python examples/make_examples.py

Fictional enterprises with valid unified social credit codes, patents with valid check characters, in the
formats operators bring: a GBK CSV from an agency ledger, an xlsx with a merged title row from a platform
export, an enterprises list and a fee-payment list. `make demo` imports them (examples/demo.sh).
"""
# ruff: noqa: E501  (rows of sample data read best one row per line)
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

from custody.appno import check_character
from custody.creditcode import credit_code_check_character

HERE = Path(__file__).parent


def appno(year: int, type_digit: int, serial: int) -> str:
    digits = f"{year}{type_digit}{serial:07d}"
    return f"{digits}.{check_character(digits)}"


def code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


MINDU = ("福州闽都智造科技有限公司", code("91350102MA8T3K2L0"))
HAIXI = ("厦门海西生物材料有限公司", code("91350206MA2XR5QF0"))
QINGSHAN = ("泉州青山机电设备有限公司", "91350100M000100Y43")


def enterprises() -> None:
    with open(HERE / "enterprises.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([
            ["企业名称", "统一社会信用代码", "联系人", "角色", "手机", "邮箱"],
            [*MINDU, "郑立新", "知识产权负责人", "13805911234", "zheng.lixin@mindu.example.cn"],
            [*MINDU, "吴晓燕", "财务", "13905914321", "wu.xiaoyan@mindu.example.cn"],
            [*HAIXI, "蔡文华", "专利专员", "18659201234", "cai.wenhua@haixi.example.cn"],
            [*QINGSHAN, "苏建国", "法定代表人", "13505951234", ""],
        ])


def ledger_gbk() -> None:
    """An agency ledger exported as GBK CSV: Chinese headers, mixed date spellings, one enterprise per row."""
    rows = [
        ["序号", "申请号", "专利名称", "专利类型", "申请日", "授权公告日", "授权年度", "已缴至年度", "费减比例", "法律状态",
         "专利权人", "统一社会信用代码"],
        [1, appno(2017, 1, 601862), "一种智能装配机械臂及其控制方法", "发明", "2017/4/25", "2019-08-02", 3, 7, "85%", "有效",
         *MINDU],
        [2, appno(2019, 2, 318877), "一种工件自动上料装置", "实用新型", "2019.05.20", "2020.01.14", 1, 5, "85%", "有效",
         *MINDU],
        [3, appno(2020, 3, 104455), "工业机器人（六轴）", "外观设计", "20200911", "2021年2月9日", 1, 4, "85%", "有效", *MINDU],
        [4, appno(2018, 1, 220301), "一种可降解医用膜材料的制备方法", "发明", "2018年3月2日", "2021-04-16", 4, "", "个人85%",
         "有效", *HAIXI],
        [5, appno(2021, 2, 66012), "一种细胞培养瓶", "实用新型", "2021-07-19", "2022-01-25", 1, "", "0.85", "专利权维持",
         *HAIXI],
        [6, appno(2016, 1, 910002), "一种胶原蛋白提取工艺", "发明", "2016-12-01", "2019-10-08", 3, 7, "70%", "有效",
         *HAIXI],
    ]
    with open(HERE / "portfolio_ledger_gbk.csv", "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)


def platform_xlsx() -> None:
    """A platform export: a merged title row and a note with the export date above the header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "专利清单"
    ws.append(["泉州青山机电设备有限公司 有效专利清单"])
    ws.merge_cells("A1:I1")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(["导出日期：2024年5月1日    数据来源：专利检索平台"])
    ws.merge_cells("A2:I2")
    ws.append(["专利号", "发明名称", "类型", "申请日期", "授权日", "首年度", "年费缴至", "费减", "当前法律状态"])
    ws.append([appno(2015, 1, 412288), "一种电机散热结构", "发明", dt.date(2015, 6, 18), dt.date(2017, 11, 3), 3, None,
               "85%", "有效"])
    ws.append([appno(2018, 2, 533671), "一种防爆接线盒", "实用新型", dt.date(2018, 9, 26), dt.date(2019, 5, 10), 1, 6,
               "85%", "有效"])
    ws.append([appno(2022, 3, 20417), "配电柜", "外观设计", dt.date(2022, 2, 14), dt.date(2022, 7, 1), 1, None, "无",
               "有效"])
    for row in ws.iter_rows(min_row=4, min_col=4, max_col=5):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    for column in "ABCDEFGHI":
        ws.column_dimensions[column].width = 18
    wb.save(HERE / "portfolio_platform.xlsx")


def current_portfolio() -> None:
    """Today's export from a fee-monitoring platform: no paid-through column, every patent still in force.

    Imported with `--as-of` today, the paid-through years are inferred, so whatever the date of the demo some
    fees are coming due and some are in their grace period: filing dates are spread over the calendar year.
    """
    rows = [
        ["申请号", "专利名称", "专利类型", "申请日", "授权公告日", "授权年度", "费减比例", "法律状态", "统一社会信用代码"],
        [appno(2015, 1, 108830), "一种伺服电机编码器校准方法", "发明", "2015-01-12", "2017-06-20", 3, "85%", "有效", MINDU[1]],
        [appno(2019, 2, 221456), "一种机械臂快换夹具", "实用新型", "2019-03-08", "2019-11-15", 1, "85%", "有效", MINDU[1]],
        [appno(2020, 1, 334201), "一种视觉引导装配方法", "发明", "2020-05-21", "2022-08-09", 3, "85%", "有效", MINDU[1]],
        [appno(2021, 3, 47712), "协作机器人控制面板", "外观设计", "2021-08-30", "2022-01-18", 1, "85%", "有效", MINDU[1]],
        [appno(2016, 1, 512094), "一种医用水凝胶敷料的制备方法", "发明", "2016-02-17", "2018-09-04", 3, "70%", "有效", HAIXI[1]],
        [appno(2020, 2, 780315), "一种细胞冻存管", "实用新型", "2020-06-29", "2021-01-12", 1, "70%", "有效", HAIXI[1]],
        [appno(2018, 1, 640027), "一种骨修复复合材料", "发明", "2018-10-11", "2021-03-26", 4, "70%", "有效", HAIXI[1]],
        [appno(2017, 2, 903318), "一种变频柜散热风道", "实用新型", "2017-04-03", "2017-12-01", 1, "无", "有效", QINGSHAN[1]],
        [appno(2019, 1, 455160), "一种电缆故障定位方法", "发明", "2019-12-05", "2022-06-14", 4, "85%", "有效", QINGSHAN[1]],
    ]
    with open(HERE / "portfolio_current.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def status_export() -> None:
    """A legal-status export as CNIPA's query gives it: announcement date, status and its free-text detail."""
    rows = [
        ["申请号", "法律状态公告日", "法律状态", "法律状态信息"],
        [appno(2016, 1, 910002), "2024-08-16", "未缴年费专利权终止",
         "未缴年费专利权终止IPC(主分类)：C08H 1/06 申请日：20161201 授权公告日：20191008 终止日期：20231201"],
        [appno(2019, 2, 318877), "2024-06-20", "专利权质押合同登记的生效",
         "登记号：Y2024350000456 出质人：福州闽都智造科技有限公司 质权人：兴业银行股份有限公司福州分行"],
        [appno(2018, 1, 220301), "2025-03-12", "专利权人的姓名或者名称、地址的变更",
         "变更事项：专利权人 变更前：厦门海西生物材料有限公司 变更后：厦门海西生物科技有限公司"],
        [appno(2015, 1, 108830), "2025-09-01", "专利实施许可合同备案的生效",
         "备案号：X2025350000078 让与人：福州闽都智造科技有限公司 被许可人：福建某某自动化有限公司 许可种类：普通许可"],
        [appno(2019, 1, 455160), "2025-10-20", "专利权人请求更正", "更正内容：说明书附图"],
    ]
    with open(HERE / "status_export.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def payments() -> None:
    with open(HERE / "payments.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([
            ["申请号", "费用名称", "金额", "缴费日期", "票据号"],
            [appno(2017, 1, 601862), "发明专利第8年年费", "¥300.00", "2024-04-18", "FJ2024041800012"],
            [appno(2019, 2, 318877), "实用新型专利第6年年费", "180元", "2024-05-08", "FJ2024050800031"],
        ])


if __name__ == "__main__":
    enterprises()
    ledger_gbk()
    platform_xlsx()
    current_portfolio()
    status_export()
    payments()
    print("examples written to", HERE)
