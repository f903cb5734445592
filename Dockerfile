# syntax=docker/dockerfile:1
# tuner's one image: the workers, the one-shot create-study service and the dashboard of
# docker-compose.yml (or `docker run IMAGE worker SPEC` on any machine; see docs/deploy.md).
# A slim Debian Python, tuner installed as a regular package (not editable) into /opt/venv,
# run as an unprivileged user, one BLAS thread per process.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tuner ./tuner
COPY dashboard ./dashboard
# Every dependency ships a manylinux wheel, so the slim image needs no compiler.
RUN /opt/venv/bin/pip install . \
    && /opt/venv/bin/python -c "import tuner.service.worker, tuner.dashboard.launch"

FROM python:${PYTHON_VERSION}-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    NUMEXPR_NUM_THREADS=1
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin tuner
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY studies ./studies
COPY deploy/create_study.py deploy/scale.toml ./deploy/
USER tuner
EXPOSE 8501
ENTRYPOINT ["tuner"]
CMD ["--help"]
