import matplotlib.pyplot as plt
import numpy as np

from course_lib import losses
from course_lib.exercises import activations as ex
from course_lib.notebook.style import OKABE_ITO

X_train, y_train = ex.toy_data("train")
W_clf = np.zeros((2, 3))
b_clf = np.zeros(3)

lr, n_steps = 0.5, 300
loss_history = []
for step in range(n_steps):
    loss, dlogits = losses.softmax_cross_entropy(X_train @ W_clf + b_clf, y_train)  # dlogits (N, C)
    W_clf -= lr * (X_train.T @ dlogits)  # (2, N) @ (N, 3): the chain rule through Z = X W + b
    b_clf -= lr * dlogits.sum(axis=0)  # b is added to every row, so its gradient sums the rows
    loss_history.append(loss)

# The predicted class on a grid of points: a linear classifier cuts the plane into three wedges.
g0, g1 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-4, 5, 200))
grid_classes = np.argmax(np.c_[g0.ravel(), g1.ravel()] @ W_clf + b_clf, axis=1).reshape(g0.shape)

fig, (ax_loss, ax_regions) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(loss_history, label="training loss")
ax_loss.set(title="Linear softmax classifier: training", xlabel="gradient step", ylabel="cross-entropy (nats)")
ax_loss.legend()
ax_regions.contourf(g0, g1, grid_classes, levels=[-0.5, 0.5, 1.5, 2.5], colors=OKABE_ITO[:3], alpha=0.25)
for c in range(3):
    ax_regions.scatter(*X_train[y_train == c].T, s=8, color=OKABE_ITO[c], label=f"class {c}")
ax_regions.set(title="Decision regions and training points", xlabel="x₁", ylabel="x₂")
ax_regions.legend()
plt.show()

ex.check_classifier(W_clf, b_clf)
