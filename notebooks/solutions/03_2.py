from course_lib.exercises import optimizers as ex


def nesterov_sutskever_step(theta, v, grad_fn, lr, momentum):
    """One step of Sutskever's Nesterov momentum; grad_fn(point) gives the gradient there.

    Returns the new (theta, v), both arrays of theta's shape.
    """
    lookahead = theta + momentum * v  # where the momentum alone would take us
    v = momentum * v - lr * grad_fn(lookahead)
    return theta + v, v


ex.check_nesterov_sutskever_step(nesterov_sutskever_step)
