"""{% dial number %}: formatted number, RingOut button, "My phone" (call-out, shown by the
page's CSS only where the app has CallControl), rcmobile:// and tel: links."""

from django.template import Context, Template


def render(number):
    return Template("{% load ui %}{% dial number %}").render(Context({"number": number}))


def test_us_number():
    html = render("16504445567")
    assert "(650) 444-5567" in html
    assert 'data-ringout="+16504445567"' in html
    assert 'href="rcmobile://call?number=16504445567"' in html
    assert 'href="tel:+16504445567"' in html
    assert 'aria-label="Call (650) 444-5567 with RingOut"' in html
    assert 'data-callout="+16504445567"' in html
    assert 'aria-label="Call (650) 444-5567 from my phone"' in html


def test_international_number():
    html = render("+442079460958")
    assert "+44 20 7946 0958" in html
    assert 'href="tel:+442079460958"' in html


def test_extension_number():
    html = render("103")
    assert "ext. 103" in html and 'data-ringout="103"' in html


def test_garbage_is_shown_but_not_dialable():
    html = render("anonymous")
    assert "anonymous" in html and "data-ringout" not in html and "data-callout" not in html


def test_empty():
    assert "—" in render("")


def test_escapes_html():
    html = render("<script>")
    assert "<script>" not in html
