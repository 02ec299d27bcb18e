"""The platforms' published sample vectors, through our crypto and signature code."""

from __future__ import annotations

import hashlib

import pytest

from bot.channels.base import Rejected
from bot.channels.feishu.crypto import FeishuCipher
from bot.channels.security import feishu_signature, wechat_signature
from bot.channels.wxcrypto import WxCallbackCrypto

# WeCom's official sample (WXBizMsgCrypt, "企业微信加解密方案说明").
WECOM = ("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
WECOM_ECHO = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": (
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    ),
}
WECOM_MSG = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
    "encrypt": (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczcd"
        "CUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjv"
        "d4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnv"
        "w2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k2"
        "2Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoyy"
        "H2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    ),
}
# The Official Account sample (公众平台消息加解密, WXBizMsgCrypt demo).
WECHAT = ("spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2")
WECHAT_MSG = {
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "encrypt": (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6"
        "F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T33"
        "2jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCg"
        "avjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6Oewp"
        "usjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    ),
}


def test_wecom_url_verification_vector() -> None:
    crypto = WxCallbackCrypto(*WECOM, enterprise=True)
    v = WECOM_ECHO
    crypto.check(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])
    assert crypto.decrypt(v["echostr"]) == "1616140317555161061"


def test_wecom_message_vector() -> None:
    crypto = WxCallbackCrypto(*WECOM, enterprise=True)
    v = WECOM_MSG
    crypto.check(v["msg_signature"], v["timestamp"], v["nonce"], v["encrypt"])
    plaintext = crypto.decrypt(v["encrypt"])
    assert "<FromUserName><![CDATA[mycreate]]></FromUserName>" in plaintext
    assert "<Content><![CDATA[hello]]></Content>" in plaintext
    assert "<MsgId>4561255354251345929</MsgId>" in plaintext


def test_wecom_vector_with_one_nonce_digit_changed_is_refused() -> None:
    crypto = WxCallbackCrypto(*WECOM, enterprise=True)
    v = WECOM_MSG
    with pytest.raises(Rejected) as refused:
        crypto.check(v["msg_signature"], v["timestamp"], "1372623148", v["encrypt"])
    assert (refused.value.status, refused.value.code) == (403, "bad_signature")


def test_wecom_ciphertext_for_another_corp_is_refused() -> None:
    crypto = WxCallbackCrypto(WECOM[0], WECOM[1], "wwOtherCorp", enterprise=True)
    with pytest.raises(Rejected) as refused:
        crypto.decrypt(WECOM_MSG["encrypt"])
    assert refused.value.code == "wrong_receiver"


def test_official_account_message_vector() -> None:
    crypto = WxCallbackCrypto(*WECHAT, enterprise=False)
    v = WECHAT_MSG
    crypto.check(v["msg_signature"], v["timestamp"], v["nonce"], v["encrypt"])
    plaintext = crypto.decrypt(v["encrypt"])
    assert "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>" in plaintext
    assert "<Content><![CDATA[abcdteT]]></Content>" in plaintext
    assert "<MsgId>6054768590064713728</MsgId>" in plaintext


def test_wechat_signature_is_sha1_of_sorted_parts() -> None:
    # Computed by hand: sorted("spamtest", "1409735669", "1320562132") joined, then sha1.
    joined = "1320562132" + "1409735669" + "spamtest"
    assert (
        wechat_signature("spamtest", "1409735669", "1320562132")
        == hashlib.sha1(joined.encode()).hexdigest()
    )


def test_feishu_decrypt_vector() -> None:
    # lark-oapi's own sample: key "test key" → "hello world".
    assert FeishuCipher("test key").decrypt("P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == (
        "hello world"
    )


def test_feishu_garbage_ciphertext_is_malformed_not_a_crash() -> None:
    with pytest.raises(Rejected) as refused:
        FeishuCipher("test key").decrypt("bm90IGEgY2lwaGVydGV4dA==")
    assert refused.value.status == 400


def test_feishu_signature_is_sha256_of_timestamp_nonce_key_body() -> None:
    body = b'{"encrypt":"abc"}'
    expected = hashlib.sha256(b"1700000000" + b"n0nce" + b"test key" + body).hexdigest()
    assert feishu_signature("1700000000", "n0nce", "test key", body) == expected
