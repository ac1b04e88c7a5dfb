"""Chart labels are text other people chose (a caller id name, a disposition code): the
SVG drawn on the server escapes them, in the chart and in the table."""

from crm_cti.reports.charts import bar_chart, heat_map
from tests.support.people import call_make, disposition_make

EVIL = '<script>alert(1)</script>"&'


def test_bar_and_heat_map_escape_labels():
    svg = bar_chart(items=[(EVIL, 3)], title=EVIL) + bar_chart(
        items=[(EVIL, 3)], title=EVIL, horizontal=True
    ) + heat_map(rows=[[1] * 24], row_labels=[EVIL], title=EVIL)
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;" in svg


def test_caller_name_and_disposition_escaped_on_the_page(agent_client, agent):
    call_make(agent, from_number="+14155550123", from_e164="+14155550123", from_name=EVIL,
              disposition=disposition_make(EVIL))
    html = agent_client.get("/reports/", {"period": "today"}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_bars_scale_to_the_largest_value():
    svg = bar_chart(items=[("a", 2), ("b", 4)], title="t", height=200)
    # 200 high, 22 below and 10 above the plot: 168 for the largest bar, 84 for half of it.
    assert 'height="168.0" fill="#2f6fde" data-label="b"' in svg
    assert 'height="84.0" fill="#2f6fde" data-label="a"' in svg
