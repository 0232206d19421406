from microgpt.tokenizer import Tokenizer


def test_vocabulary_is_sorted_characters_plus_bos():
    tok = Tokenizer.from_docs(["emma", "olivia", "ava"])
    assert tok.uchars == sorted(set("emmaoliviaava"))
    assert tok.BOS == len(tok.uchars)
    assert tok.vocab_size == len(tok.uchars) + 1


def test_encode_surrounds_with_bos_and_decode_inverts():
    tok = Tokenizer.from_docs(["emma", "ava"])
    tokens = tok.encode("ava")
    assert tokens[0] == tokens[-1] == tok.BOS
    assert tok.decode(tokens) == "ava"


def test_names_vocabulary(names_docs):
    tok = Tokenizer.from_docs(names_docs)
    assert tok.uchars == list("abcdefghijklmnopqrstuvwxyz")
    assert tok.vocab_size == 27
