FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir -e . \
 && DJANGO_SETTINGS_MODULE=outreach.settings python manage.py collectstatic --no-input
RUN useradd --system --home /app outreach
USER outreach
EXPOSE 8000
