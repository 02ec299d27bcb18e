"""The WeChat/WeCom callback scheme (WXBizMsgCrypt): sha1 signature + AES-CBC with the receiver
id (corp id / app id) appended, via wechatpy's crypto — with the signature checked here in
constant time first, because wechatpy compares with `!=`."""

from __future__ import annotations

import struct
from typing import Any

from bot.channels.base import forbidden, malformed
from bot.channels.security import require_signature, wechat_signature


class WxCallbackCrypto:
    def __init__(self, token: str, aes_key: str, receiver_id: str, *, enterprise: bool) -> None:
        if enterprise:
            from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
            from wechatpy.enterprise.exceptions import InvalidCorpIdException as WrongReceiver
        else:
            from wechatpy.crypto import PrpCrypto, WeChatCrypto
            from wechatpy.exceptions import InvalidAppIdException as WrongReceiver
        try:
            self._wechat: Any = WeChatCrypto(token, aes_key, receiver_id)
        except (AssertionError, ValueError) as exc:
            raise ValueError("EncodingAESKey must be 43 characters of base64") from exc
        self._prp: Any = PrpCrypto(self._wechat.key)
        self._wrong_receiver: type[Exception] = WrongReceiver
        self.token = token
        self.receiver_id = receiver_id

    def check(self, signature: str | None, timestamp: str, nonce: str, *parts: str) -> None:
        require_signature(wechat_signature(self.token, timestamp, nonce, *parts), signature)

    def decrypt(self, encrypted: str) -> str:
        """Plaintext of an `Encrypt` value or an encrypted echostr (signature already checked)."""
        try:
            return str(self._prp.decrypt(encrypted, self.receiver_id))
        except self._wrong_receiver as exc:
            raise forbidden(
                "wrong_receiver", "消息不属于本应用 / not addressed to this app"
            ) from exc
        except (ValueError, TypeError, IndexError, struct.error) as exc:
            raise malformed("无法解密 / cannot decrypt") from exc

    def encrypt_reply(self, xml: str, nonce: str, timestamp: str) -> str:
        return str(self._wechat.encrypt_message(xml, nonce, timestamp))
