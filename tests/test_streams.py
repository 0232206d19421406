from nbformat import from_dict

from microgpt.sphinxext.streams import coalesce_streams


def stream(text, name="stdout"):
    return from_dict({"output_type": "stream", "name": name, "text": text})


def test_a_print_split_by_a_flush_merges_as_if_it_were_whole():
    whole = coalesce_streams([stream("d loss: [0.1] ...\nany non-zero: True\n")])
    for cut in range(1, len("d loss: [0.1] ...\nany non-zero: True\n")):
        text = "d loss: [0.1] ...\nany non-zero: True\n"
        assert coalesce_streams([stream(text[:cut]), stream(text[cut:])]) == whole, cut


def test_progress_lines_keep_their_last_state_and_stderr_follows_stdout():
    image = from_dict({"output_type": "display_data", "data": {}, "metadata": {}})
    merged = coalesce_streams([stream("warn\n", "stderr"), stream("step 1\rstep 2\nab\x08c\n"), image,
                               stream("done\n\n")])
    assert [(o.get("name"), o.get("text")) for o in merged] == [
        ("stdout", "step 2\nac\ndone\n"), ("stderr", "warn\n"), (None, None)]
