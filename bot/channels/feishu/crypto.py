"""Feishu event decryption with lark-oapi's own helper (`AESCipher`: AES-256-CBC, key =
sha256(encrypt_key), IV = the first block).

Importing anything from lark-oapi imports the whole SDK (several seconds), so the cipher is
loaded when the Feishu channel is built at start-up — never on the first callback, which must be
answered within 3 s.
"""

from __future__ import annotations

from typing import Any

from bot.channels.base import malformed


class FeishuCipher:
    def __init__(self, encrypt_key: str) -> None:
        from lark_oapi.core.utils.decryptor import AESCipher

        self._cipher: Any = AESCipher(encrypt_key)

    def decrypt(self, encrypted: object) -> str:
        if not isinstance(encrypted, str) or not encrypted:
            raise malformed("encrypt 字段无效 / invalid encrypt field")
        try:
            return str(self._cipher.decrypt_str(encrypted))
        except (ValueError, TypeError, IndexError) as exc:
            raise malformed("无法解密 / cannot decrypt") from exc
