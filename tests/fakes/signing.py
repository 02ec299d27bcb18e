"""Callbacks signed and encrypted the way WeCom, the Official Account and Feishu send them.

Encryption uses wechatpy's WXBizMsgCrypt implementation for WeChat/WeCom and `cryptography`
for Feishu (lark-oapi has no encrypt side), independently of the code under test's checks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wx_encrypt(
    plain_xml: str,
    *,
    token: str,
    aes_key: str,
    receiver: str,
    enterprise: bool,
    timestamp: str,
    nonce: str,
) -> tuple[str, str]:
    """(Encrypt value, msg_signature) for a plaintext callback."""
    if enterprise:
        from wechatpy.enterprise.crypto import PrpCrypto
    else:
        from wechatpy.crypto import PrpCrypto
    key = base64.b64decode(aes_key + "=")
    encrypted = PrpCrypto(key).encrypt(plain_xml, receiver).decode()
    return encrypted, sha1_signature(token, timestamp, nonce, encrypted)


def wecom_post(
    plain_xml: str,
    *,
    token: str,
    aes_key: str,
    corp_id: str,
    timestamp: str,
    nonce: str | None = None,
    agent_id: int = 1000002,
) -> tuple[str, bytes]:
    """(path with query, body) as WeCom posts a message to a self-built app's callback URL."""
    nonce = nonce or secrets.token_hex(5)
    encrypted, signature = wx_encrypt(
        plain_xml,
        token=token,
        aes_key=aes_key,
        receiver=corp_id,
        enterprise=True,
        timestamp=timestamp,
        nonce=nonce,
    )
    body = (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        f"<AgentID><![CDATA[{agent_id}]]></AgentID></xml>"
    )
    query = urlencode({"msg_signature": signature, "timestamp": timestamp, "nonce": nonce})
    return f"/wecom/callback?{query}", body.encode()


def wechat_post(
    plain_xml: str,
    *,
    token: str,
    timestamp: str,
    aes_key: str | None = None,
    app_id: str = "",
    nonce: str | None = None,
    openid: str = "oUser",
) -> tuple[str, bytes]:
    """(path with query, body) as the Official Account posts: plaintext, or safe mode."""
    nonce = nonce or secrets.token_hex(5)
    params = {
        "signature": sha1_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }
    if aes_key is None:
        return f"/wechat/callback?{urlencode(params)}", plain_xml.encode()
    encrypted, msg_signature = wx_encrypt(
        plain_xml,
        token=token,
        aes_key=aes_key,
        receiver=app_id,
        enterprise=False,
        timestamp=timestamp,
        nonce=nonce,
    )
    params |= {"encrypt_type": "aes", "msg_signature": msg_signature}
    body = (
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return f"/wechat/callback?{urlencode(params)}", body.encode()


def feishu_encrypt(plaintext: str, encrypt_key: str) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def feishu_post(
    payload: dict[str, Any], *, encrypt_key: str, timestamp: str, nonce: str | None = None
) -> tuple[dict[str, str], bytes]:
    """(headers, body) as Feishu posts an encrypted, signed event."""
    nonce = nonce or secrets.token_hex(8)
    body = json.dumps({"encrypt": feishu_encrypt(json.dumps(payload), encrypt_key)}).encode()
    signature = hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature,
    }
    return headers, body
