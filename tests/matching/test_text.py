from scishare.matching.text import language, tokenize


def test_tokens_drop_stopwords_and_punctuation() -> None:
    tokens = tokenize("我们想测一下正极材料的比表面积，谢谢！")

    assert "我们" not in tokens
    assert "，" not in tokens
    assert "比表面积" in tokens or "表面积" in tokens


def test_english_tokens_are_lower_case_and_stemmed() -> None:
    assert tokenize("Cracks in the Welds") == ["crack", "weld"]


def test_language_follows_the_script() -> None:
    assert language("锂电池正极材料的晶体结构") == "zh"
    assert language("crystal structure of NCM811 cathode powder") == "en"
    assert language("NCM811正极粉做XRD") == "zh"
