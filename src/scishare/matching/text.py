"""Tokens for BM25: jieba for Chinese, light stemming for English, one folding for both."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from scishare.matching.recognise import fold

jieba.setLogLevel(logging.WARNING)

# Words that say nothing about which test is wanted, in the way people write needs.
_ENGLISH_STOPWORDS = """
a an the of and or to for in on at by with from as is are be been it its this that these those
we our us you your i my me they their can could would should will shall do does did how what
which who whom whose where when why need needs want wants like please some any also about into
than then there here so if not no yes just get got have has had
"""
_CHINESE_STOPWORDS = """
的 了 和 与 及 或 是 在 有 我 我们 你 你们 他们 想 要 需要 一下 一个 一些 这个 那个
这 那 吗 呢 啊 吧 呀 么 怎么 如何 能 能否 可以 可否 做 测 看 看看 帮 请 请问 什么
哪些 多少 一批 一款 有没有 是不是 还是 以及 并 且 也 都 就 还 又 再
"""
STOPWORDS = frozenset(_ENGLISH_STOPWORDS.split()) | frozenset(_CHINESE_STOPWORDS.split())
_PUNCT = re.compile(r"^[\W_]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_ASCII_WORD = re.compile(r"[a-z]")


def _stem(word: str) -> str:
    if len(word) > 4 and word.isascii() and word.isalpha():
        for suffix in ("ies", "es", "s", "ing", "ed"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65536)
def _cut(text: str) -> tuple[str, ...]:
    return tuple(jieba.cut_for_search(text))


def tokenize(text: str) -> list[str]:
    """Lower-case search tokens without stopwords or punctuation."""
    tokens: list[str] = []
    for piece in fold(text).lower.split(" "):
        if not piece:
            continue
        for word in _cut(piece):
            word = word.strip()
            if not word or word in STOPWORDS or _PUNCT.match(word):
                continue
            tokens.append(_stem(word))
    return tokens


def language(text: str) -> str:
    """`zh` when the text has Chinese characters worth counting, else `en`."""
    cjk = len(_CJK.findall(text))
    latin = len(_ASCII_WORD.findall(text.lower()))
    return "zh" if cjk and cjk * 3 >= latin else "en"


@lru_cache(maxsize=8192)
def token_set(text: str) -> frozenset[str]:
    """The tokens of a catalog text, kept for texts that many offers share."""
    return frozenset(tokenize(text))
