from course_lib.exercises import rnn_bptt as ex


def to_row_form(params):
    """min-char-rnn's column-form parameters -> the same network in row form."""
    # (W @ x).T == x.T @ W.T: every matrix is transposed, and the (n, 1) bias columns
    # become the 1-D biases that are added to every row of a batch.
    return {
        "Wx": params["Wxh"].T,  # (V, H)
        "Wh": params["Whh"].T,  # (H, H): square, so forgetting .T raises no error
        "b": params["bh"].ravel(),  # (H,)
        "W": params["Why"].T,  # (H, V)
        "b_out": params["by"].ravel(),  # (V,)
    }


ex.check_to_row_form(to_row_form)
