from core.markdown import plain_text, render_markdown


def test_markdown_renders_basic_formatting():
    html = str(render_markdown("## Titre\n\nDu **gras** et un [lien](https://mulhouse.fr)."))
    assert "<h2>Titre</h2>" in html and "<strong>gras</strong>" in html
    assert 'href="https://mulhouse.fr"' in html and 'rel="nofollow noopener noreferrer"' in html


def test_markdown_neutralises_html_and_dangerous_links():
    html = str(
        render_markdown(
            "<script>alert(1)</script><img src=x onerror=alert(1)>\n\n"
            "[clic](javascript:alert(1)) <a href='https://x' onclick='y'>a</a>"
        )
    )
    # Raw HTML is shown as text, never interpreted.
    assert "<script" not in html and "<img" not in html and "<a href='https" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_plain_text_excerpt():
    assert plain_text("Un **vélo** pour *tous*") == "Un vélo pour tous"
    assert plain_text("a " * 100, limit=20).endswith("…")
    assert len(plain_text("a " * 100, limit=20)) == 20
