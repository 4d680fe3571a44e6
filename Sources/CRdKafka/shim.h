#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// Produces a copied record with one header (librdkafka's header API is variadic, which Swift
/// cannot call).
static inline rd_kafka_resp_err_t tagstream_produce_with_header(
    rd_kafka_t *rk, const char *topic, int32_t partition, const void *value, size_t value_size,
    const void *key, size_t key_size, const char *header, const void *header_value, size_t header_size) {
    return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_VALUE((void *)value, value_size), RD_KAFKA_V_KEY(key, key_size),
                             RD_KAFKA_V_HEADER(header, header_value, (ssize_t)header_size), RD_KAFKA_V_END);
}
