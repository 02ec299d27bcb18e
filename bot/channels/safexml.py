"""XML from the outside world, parsed without DTDs or entities (defusedxml).

An XML bomb (billion laughs, quadratic blow-up, external entities) needs a DTD; refusing every
DTD turns it into a 400 before a single entity is expanded. wechatpy parses with xmltodict on
plain expat, so its parsers only ever see documents that passed through here first.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.channels.base import malformed


class XmlDoc:
    """The flat `<xml><Field>value</Field>…</xml>` shape WeChat and WeCom use."""

    def __init__(self, root: Element) -> None:
        self._root = root

    def get(self, name: str, default: str = "") -> str:
        node = self._root.find(name)
        if node is None or node.text is None:
            return default
        return node.text

    def require(self, name: str) -> str:
        value = self.get(name).strip()
        if not value:
            raise malformed(f"XML 缺少字段 {name} / missing field {name}")
        return value

    def items(self, name: str) -> list[str]:
        """Texts of `<name><Item>…</Item>…</name>`."""
        node = self._root.find(name)
        if node is None:
            return []
        return [item.text.strip() for item in node if item.text and item.text.strip()]

    def fields(self) -> dict[str, str]:
        return {child.tag: (child.text or "") for child in self._root if len(child) == 0}

    def canonical(self) -> str:
        """Every element's tag and text in document order: the same for a redelivery."""
        return "\n".join(f"{node.tag}={(node.text or '').strip()}" for node in self._root.iter())


def parse_xml(body: bytes | str) -> XmlDoc:
    if not body:
        raise malformed("请求体为空 / empty body")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise malformed("XML 含 DTD 或实体，已拒绝 / XML with DTD or entities refused") from exc
    except (ParseError, ValueError) as exc:
        raise malformed("XML 格式错误 / malformed XML") from exc
    if root.tag != "xml":
        raise malformed("XML 根元素应为 <xml> / root element must be <xml>")
    return XmlDoc(root)


def cdata_safe(text: str) -> str:
    """Text that cannot close a CDATA section early (wechatpy's replies do not escape it)."""
    return text.replace("]]>", "]]]]><![CDATA[>")
